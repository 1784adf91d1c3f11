"""The firmware builds for every catalog board with the same application code (board
support is boards/<board>/), and each image fits its board. Sizes are printed (-s) and
recorded for the report."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from wasmbed.emulation import CATALOG
from wasmbed.emulation.catalog import FIRMWARE_DIR

# flash available to the image, and SRAM (memory.ld of each board)
LIMITS = {"stm32f4_discovery": (768 * 1024, 192 * 1024),
          "arduino_nano_33_ble": (896 * 1024, 256 * 1024),
          "arduino_uno_r4_minima": (192 * 1024, 32 * 1024),
          "emcraft_sf2_som": (224 * 1024, 64 * 1024 + 1024 * 1024)}  # eSRAM + the DDR heap


@pytest.mark.long(10)  # from a clean clone: each board is built from scratch
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


def test_a_clean_tree_fetches_the_third_party_sources_before_compiling_them(tmp_path):
    """`make firmware` in a fresh clone: the third-party sources are not there yet, and make
    must plan the fetch instead of stopping at "No rule to make target" (what `./run bench
    firmware` met on a checkout where `./run test` had not fetched them first). A dry run in
    a copy of the tree without third_party/ shows the plan without fetching anything."""
    tree = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, tree, ignore=shutil.ignore_patterns(
        "third_party", "build", "__pycache__"))
    plan = subprocess.run(["make", "-n", "firmware", f"BUILD={tmp_path / 'build'}"],
                          cwd=tree, capture_output=True, text=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    fetch = next(i for i, line in enumerate(lines) if "fetch-third-party.sh" in line)
    first_third_party_compile = next(i for i, line in enumerate(lines)
                                     if "-c -o" in line and "third_party/" in line.split()[-1])
    assert fetch < first_third_party_compile
