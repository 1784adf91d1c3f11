"""Smoke test of the Renode backend, where Renode is installed (skipped elsewhere, saying
what to install): each board with a Renode platform boots the real firmware from its .resc,
enrolls over the bridge and connects."""

from __future__ import annotations

import allure
import pytest

from harness.boards import start_board
from harness.stack import provision_board, start_bridge
from scenarios.steps import device_phase

pytestmark = [allure.feature("Renode"), pytest.mark.renode]


@pytest.mark.parametrize("board_name", ["stm32f4_discovery", "arduino_nano_33_ble"])
def test_board_boots_enrolls_and_connects_on_renode(board_name, platform, gateway, processes,
                                                    evidence, firmware_build, wait_for):
    name = f"renode-{board_name.replace('_', '-')}"
    blob = provision_board(platform, gateway, evidence.directory, name, board_name)
    board = start_board(board_name, "renode", firmware_build(board_name),
                        evidence.directory / name, blob, run=False)
    try:
        start_bridge(board.link_address, gateway, processes, evidence, f"bridge-{name}",
                     wait=False)
        board.resume()
        board.console.wait_for_line(rf"wasmbed: boot firmware=\S+ board={board_name}", 30)
        board.console.wait_for_line(rf"wasmbed: connected id={name}\b", 120)
        wait_for(lambda: device_phase(platform.api, name, "Connected"), 30, f"{name} Connected")
    finally:
        board.stop()
