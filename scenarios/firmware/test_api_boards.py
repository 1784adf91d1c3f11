"""Emulated boards started through the REST API: the API server starts QEMU with the real
firmware, registers the Device, bridges it to a gateway; it enrolls and connects; its
console and events are served; stopping it leaves the Device Disconnected."""

from __future__ import annotations

from pathlib import Path

import allure
import pytest

from harness.services import GatewayHandle, Platform
from scenarios.steps import device_phase
from wasmbed.rest_client import ApiError
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Firmware"), pytest.mark.board("stm32f4_discovery")]


@pytest.fixture
def platform(cluster, processes, evidence, firmware_build):
    """The API server told where the session's firmware build is."""
    elf = firmware_build("stm32f4_discovery")
    p = Platform.start(cluster, processes, evidence,
                       extra=["--firmware-dir", str(elf.parent.parent)])
    yield p
    p.api.close()


def qemu_pids() -> list[int]:
    """QEMU processes whose command line names the API-started board's directory."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"qemu-system-arm") and b"api-board" in b" ".join(cmd):
                pids.append(int(proc.name))
    return pids


@allure.story("A board started through the API enrolls, shows its console, and stops")
def test_board_started_through_the_api(api, platform, gateway: GatewayHandle, wait_for):
    platform_dir = platform.cluster.data_dir
    wait_for(lambda: api.gateway(gateway.name)["status"].get("phase") == "Ready", 20,
             f"{gateway.name} Ready")
    with allure.step("POST /api/v1/boards"):
        started = api.request("POST", "/api/v1/boards",
                              json={"name": "api-board", "labels": {"tier": "lab"}})
        assert started["board"] == "stm32f4_discovery" and started["running"]
    with allure.step("its Device enrolls and connects"):
        dev = wait_for(lambda: device_phase(api, "api-board", "Connected"), 90,
                       "api-board Connected")
        assert dev["metadata"]["labels"]["tier"] == "lab"

    def console_has(text: str) -> object:
        lines = api.request("GET", "/api/v1/devices/api-board/console?tail=200")["lines"]
        return any(text in line for line in lines) or Seen(lines[-3:])

    with allure.step("its console and events are served"):
        wait_for(lambda: console_has("wasmbed: connected id=api-board"), 10, "the console")
        kinds = [e["type"] for e in api.request("GET", "/api/v1/devices/api-board/events")[
            "items"]]
        assert kinds[:2] == ["board-started", "enrolled"] and "connected" in kinds
    with allure.step("its QEMU runs where the API server's secrets are hidden"):
        pids = qemu_pids()
        assert pids, "no QEMU process found"
        for pid in pids:
            parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
            wrapper = Path(f"/proc/{parent}/cmdline").read_bytes().split(b"\0")
            assert wrapper[0].endswith(b"bwrap"), wrapper
            hidden = {wrapper[i + 1] for i, a in enumerate(wrapper) if a == b"--tmpfs"}
            assert str(platform_dir / "pki").encode() in hidden
            nulled = {wrapper[i + 2] for i, a in enumerate(wrapper) if a == b"--ro-bind"
                      and wrapper[i + 1] == b"/dev/null"}
            assert str(platform_dir / "token").encode() in nulled
    with allure.step("the gateway lists it"):
        held = api.request("GET", f"/api/v1/gateways/{gateway.name}/devices")["items"]
        assert [d["metadata"]["name"] for d in held] == ["api-board"]
    with allure.step("DELETE /api/v1/boards/api-board: the device goes Disconnected"):
        api.request("DELETE", "/api/v1/boards/api-board")
        wait_for(lambda: device_phase(api, "api-board", "Disconnected"), 30,
                 "api-board Disconnected")
    with pytest.raises(ApiError) as err:
        api.request("POST", "/api/v1/boards", json={"name": "nrf", "board":
                                                    "arduino_nano_33_ble"})
    assert err.value.status == 501 and "install Renode" in err.value.message


@allure.story("`wasmbed demo --board` runs the demo with a firmware board beside the "
              "virtual devices")
def test_demo_with_a_board(firmware_build, board_target, tmp_path):
    import subprocess
    import sys

    name, emulator = board_target
    if emulator != "qemu":
        pytest.skip("the API starts boards on QEMU")
    elf = firmware_build(name)
    done = subprocess.run([sys.executable, "-m", "wasmbed.cli", "demo", "--board", name,
                           "--firmware-dir", str(elf.parent.parent)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "4 devices enrolled and Connected" in done.stdout
    assert "demo-board │ Completed" in done.stdout and "shut down cleanly" in done.stdout
