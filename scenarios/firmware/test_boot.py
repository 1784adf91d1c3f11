"""The real firmware boots on the emulated board and keeps time."""

from __future__ import annotations

import allure
import pytest

from wasmbed.emulation.catalog import FIRMWARE_DIR

pytestmark = [allure.feature("Firmware"), pytest.mark.board("stm32f4_discovery")]


@allure.story("The boot banner names the firmware version and board")
def test_boot_banner(board):
    b = board()
    m = b.console.wait_for_line(r"wasmbed: boot firmware=(\S+) board=(\S+)", 10)
    assert m.group(1) == (FIRMWARE_DIR / "VERSION").read_text().strip()
    assert m.group(2) == "stm32f4_discovery"


@allure.story("Without a provisioning blob the firmware says so and idles")
def test_unprovisioned_board_says_so(board):
    b = board()
    b.console.wait_for_line("wasmbed: boot", 10)
    b.console.wait_for_line(r"wasmbed: no provisioning blob at 0x080c0000", 10)


@allure.story("Reset reboots; power cut boots a fresh machine")
def test_reset_and_power_cut_reboot(board):
    b = board()
    b.console.wait_for_line("wasmbed: boot", 10)
    with allure.step("warm reset"):
        b.reset()
        b.console.wait_for_line("wasmbed: boot", 10)
    with allure.step("power cut"):
        b.power_cut()
        b.console.wait_for_line("wasmbed: boot", 10)
        b.console.wait_for_line("no provisioning blob", 10)
