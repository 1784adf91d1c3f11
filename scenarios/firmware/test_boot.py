"""The real firmware boots on the emulated board and keeps time."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import allure
import pytest

from wasmbed.emulation import board_spec
from wasmbed.emulation.catalog import FIRMWARE_DIR

pytestmark = [allure.feature("Firmware"), pytest.mark.board]


@pytest.mark.also_board("emcraft_sf2_som")  # its own UART driver and memory map
@allure.story("The boot banner names the firmware version and board")
def test_boot_banner(board, board_target):
    b = board()
    m = b.console.wait_for_line(r"wasmbed: boot firmware=(\S+) board=(\S+)", 60)
    assert m.group(1) == (FIRMWARE_DIR / "VERSION").read_text().strip()
    assert m.group(2) == board_target[0]


@allure.story("Without a provisioning blob the firmware says so and idles")
def test_unprovisioned_board_says_so(board, board_target):
    b = board()
    b.console.wait_for_line("wasmbed: boot", 60)
    addr = board_spec(board_target[0]).provision_addr
    b.console.wait_for_line(rf"wasmbed: no provisioning blob at 0x{addr:08x}", 60)


@allure.story("Reset reboots; power cut boots a fresh machine on the same ports")
def test_reset_and_power_cut_reboot(board):
    b = board()
    b.console.wait_for_line("wasmbed: boot", 60)
    wiring = dict(getattr(b, "ports", {}))  # an emulator's UART ports (a lab board has none)
    with allure.step("warm reset"):
        b.reset()
        b.console.wait_for_line("wasmbed: boot", 60)
    with allure.step("power cut"):
        b.power_cut()
        b.console.wait_for_line("wasmbed: boot", 60)
        b.console.wait_for_line("no provisioning blob", 60)
    assert dict(getattr(b, "ports", {})) == wiring, "the bridge would lose the board"
    # while it was off, no connection on the machine may take those ports: not ephemeral
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    assert not {k: p for k, p in wiring.items() if low <= p <= high}, (wiring, low, high)


def _allowed_cpus(pid: int) -> dict[str, str]:
    """Each thread of `pid`: the CPUs the kernel lets it run on."""
    allowed = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            status = (task / "status").read_text()
            allowed[task.name] = re.search(r"Cpus_allowed_list:\s*(\S+)", status).group(1)
    return allowed


@allure.story("A QEMU board runs on one host CPU, every thread, across a power cut")
def test_qemu_board_is_pinned_to_one_cpu(board):
    b = board()
    if b.emulator != "qemu":
        pytest.skip("pinning is what QEMU boards do (Renode is one Mono process)")
    b.console.wait_for_line("wasmbed: boot", 60)
    for when in ("booted", "after a power cut"):
        allowed = _allowed_cpus(b.process.pid)
        assert len(allowed) >= 2, f"QEMU {when} has its I/O and vCPU threads: {allowed}"
        assert len(set(allowed.values())) == 1, f"{when}: {allowed}"
        assert next(iter(allowed.values())).isdigit(), f"{when}: one CPU, not a range: {allowed}"
        b.power_cut()
        b.console.wait_for_line("wasmbed: boot", 60)
