"""Board faults on the real firmware: power cut mid-deployment, a paused CPU, and a
partition on the bridge. The device always comes back and nothing runs half-delivered."""

from __future__ import annotations

import allure
import httpx
import pytest

from scenarios.steps import (
    app_device_phase,
    device_phase,
    entry_history,
)
from wasmbed import examples
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Faults"), pytest.mark.board]


@pytest.mark.wasm_memory
@allure.story("Power cut between deploy chunks: the device recovers and the module runs")
@pytest.mark.fault("board")
def test_power_cut_mid_deployment(api, connected_board, firmware_bridge, gateway, faults,
                                  wait_for):
    name, b = connected_board
    chunks = "wasmbed_gateway_deploy_chunks_total"
    # a slow link, so the cut lands mid-transfer whatever the link's speed otherwise
    with faults.network(firmware_bridge).bandwidth(40_000):  # bits/s: ~6 s for 28 KiB
        api.create_application("big", examples.padded(28 * 1024, forever=True),
                               devices=[name])
        wait_for(lambda: gateway.metric(chunks) >= 4 or Seen("fewer chunks"), 60,
                 "4 chunks acknowledged", ignore=(httpx.HTTPError,))
        faults.power_cut(b)
        assert gateway.metric("wasmbed_gateway_deployments_total", result="committed") == 0, \
            "the transfer finished before the power cut: this test cuts mid-transfer"
    b.console.wait_for_line("wasmbed: boot", 60)
    b.console.wait_for_line(rf"wasmbed: (enrolled|connected) id={name}\b", 90)
    b.console.wait_for_line(r"wasmbed: app big@1 running", 120)
    wait_for(lambda: app_device_phase(api, "big", name, "Running"), 30, "big Running")
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected")


@pytest.mark.wasm_memory
@allure.story("Power cut while a module runs: the API stops saying Running and redeploys")
@pytest.mark.fault("board")
def test_power_cut_while_running_redeploys(api, connected_board, faults, wait_for):
    name, b = connected_board
    api.create_application("sleeper", examples.padded(1024, forever=True), devices=[name])
    b.console.wait_for_line(r"wasmbed: app sleeper@1 running", 60)
    wait_for(lambda: app_device_phase(api, "sleeper", name, "Running"), 30, "Running")
    since = api.request("GET", "/api/v1/applications")["resourceVersion"]
    faults.power_cut(b)
    b.console.wait_for_line("wasmbed: boot", 60)
    b.console.wait_for_line(r"wasmbed: app sleeper@1 running", 120)
    history = entry_history(api, "sleeper", name, since, until="Running")
    if history[0] == ("Running", None):  # the device's facts changed before its entry did
        history = history[1:]
    with allure.step(f"phases seen: {history}"):
        assert history[0][0] == "Pending" and "no longer runs it" in history[0][1]
        assert history[-1][0] == "Running"


@allure.story("A paused CPU misses heartbeats; resumed, it reconnects")
@pytest.mark.fault("board")
def test_paused_cpu_recovers(api, connected_board, faults, wait_for):
    name, b = connected_board
    with faults.cpu_paused(b):
        wait_for(lambda: device_phase(api, name, "Disconnected"), 20,
                 f"{name} Disconnected while its CPU is paused")
    b.console.wait_for_line(rf"wasmbed: connected id={name}\b", 60)
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected again")


@allure.story("A partition on the bridge: the firmware notices and reconnects")
@pytest.mark.fault("network")
@pytest.mark.long(12)
def test_firmware_partition(api, connected_board, firmware_bridge, faults, wait_for):
    name, b = connected_board
    faults.network(firmware_bridge).partition(seconds=6)
    b.console.wait_for_line(r"wasmbed: disconnected: ", 60)  # no acks, or a broken link
    wait_for(lambda: device_phase(api, name, "Disconnected"), 20, f"{name} Disconnected")
    b.console.wait_for_line(rf"wasmbed: connected id={name}\b", 60)
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected again")


@allure.story("A flood on the console UART does not disturb the device")
@pytest.mark.fault("board")
def test_console_flood(api, connected_board, faults, wait_for):
    name, b = connected_board
    first = api.device(name)["status"]["lastHeartbeat"]
    # Renode takes socket-terminal input at about 500 B per host second with the machine's
    # clock stopped (measured, 1.15.3): 256 KiB would freeze it for minutes, whatever the
    # firmware does. 1 KiB still fills any receive buffer the board has.
    faults.console_flood(b, 256 * 1024 if b.emulator == "qemu" else 1024)

    def newer_beat() -> object:
        st = api.device(name)["status"]
        return (st["phase"] == "Connected" and st["lastHeartbeat"] > first) or Seen(st)

    wait_for(newer_beat, 20, "heartbeats after the flood")


@allure.story("Killing the bridge: the firmware reconnects once it is back")
@pytest.mark.fault("process")
def test_bridge_kill_and_restart(api, connected_board, firmware_bridge, faults, wait_for):
    name, b = connected_board
    faults.kill(firmware_bridge)
    wait_for(lambda: device_phase(api, name, "Disconnected"), 20, f"{name} Disconnected")
    faults.restart(firmware_bridge)
    b.console.wait_for_line(rf"wasmbed: connected id={name}\b", 60)
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected again")


@allure.story("Power cut right after the certificate is stored: the device is not bricked")
@pytest.mark.fault("board")
def test_power_cut_after_cert_write(api, board, bridge, gateway, provisioned, faults,
                                    wait_for):
    name, blob = provisioned()
    b = board(blob=blob, paused=True)
    bridge(b, gateway)
    b.resume()
    b.console.wait_for_line(r"wasmbed: (certificate stored in flash|flash store not writable)",
                            60)
    faults.power_cut(b)  # before the device used its new certificate
    b.console.wait_for_line("wasmbed: boot", 60)
    b.console.wait_for_line(rf"wasmbed: enrolled id={name}\b", 60)
    b.console.wait_for_line(rf"wasmbed: connected id={name}\b", 60)
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected")
    # the board ran only once the bridge was back on its link, as a wire would be
    assert not [line for line in b.console.lines if "timed out" in line], b.console.lines
