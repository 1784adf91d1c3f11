"""The real firmware boots on the emulated board and keeps time."""

from __future__ import annotations

import allure
import pytest

from wasmbed.emulation import board_spec
from wasmbed.emulation.catalog import FIRMWARE_DIR

pytestmark = [allure.feature("Firmware"), pytest.mark.board]


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


@allure.story("Reset reboots; power cut boots a fresh machine")
def test_reset_and_power_cut_reboot(board):
    b = board()
    b.console.wait_for_line("wasmbed: boot", 60)
    with allure.step("warm reset"):
        b.reset()
        b.console.wait_for_line("wasmbed: boot", 60)
    with allure.step("power cut"):
        b.power_cut()
        b.console.wait_for_line("wasmbed: boot", 60)
        b.console.wait_for_line("no provisioning blob", 60)
