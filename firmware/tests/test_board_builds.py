"""The firmware builds for every catalog board with the same application code (board
support is boards/<board>/), and each image fits its board. Sizes are printed (-s) and
recorded for the report."""

from __future__ import annotations

import json

import pytest

from wasmbed.emulation import CATALOG

# flash available to the image, and SRAM (memory.ld of each board)
LIMITS = {"stm32f4_discovery": (768 * 1024, 192 * 1024),
          "arduino_nano_33_ble": (896 * 1024, 256 * 1024),
          "arduino_uno_r4_minima": (192 * 1024, 32 * 1024)}


@pytest.mark.parametrize("board", sorted(CATALOG))
def test_firmware_builds_and_fits(board, firmware_build):
    elf = firmware_build(board)
    sizes = json.loads(elf.with_name(elf.name + ".size.json").read_text())
    flash, ram = LIMITS[board]
    used_ram = sizes["ramStatic"] + sizes["heap"] + sizes["stack"]
    print(f"{board}: flash {sizes['flash']} B, static RAM {sizes['ramStatic']} B, "
          f"heap {sizes['heap']} B, stack {sizes['stack']} B")
    assert 0 < sizes["flash"] <= flash
    assert used_ram <= ram
    assert sizes["heap"] > 0
