"""The boards we know: how each is emulated and where its firmware keeps things."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from wasmbed.paths import REPO

FIRMWARE_DIR = REPO / "firmware"


class EmulatorUnavailable(Exception):
    """This machine cannot run the board; the message says what to install."""


@dataclass(frozen=True)
class BoardSpec:
    name: str
    mcu: str
    renode_platform: str | None  # None: Renode ships no such board
    qemu_machine: str | None  # None: no QEMU stand-in
    console_uart: str  # Renode peripheral names (QEMU: serial0 / serial1); "" without Renode
    link_uart: str
    provision_addr: int
    store_addr: int
    systick_hz: int = 0  # the core clock the firmware configures (its BOARD_CPU_HZ)
    wasm_ram: int = 72 * 1024  # what the firmware offers modules (the provisioning blob says)
    max_module_size: int = 32 * 1024
    # False: board scenarios run on it when asked (--board NAME, or a scenario's also_board
    # marker), so a second board of the same kind does not double the default run
    in_default_run: bool = True
    renode_svd: bool = False  # Renode's description downloads an SVD (replaced offline)
    # registers Renode does not model that the firmware polls: (address, name, value) tags
    renode_tags: tuple[tuple[int, str, int], ...] = ()

    def firmware_elf(self, build_dir: Path | None = None) -> Path:
        return (build_dir or FIRMWARE_DIR / "build") / self.name / "firmware.elf"

    def qemu_binary(self) -> str:
        if self.qemu_machine is None:
            raise EmulatorUnavailable(
                f"{self.name} has no QEMU stand-in; install Renode to run {self.name}")
        path = shutil.which("qemu-system-arm")
        if path is None:
            raise EmulatorUnavailable(
                "qemu-system-arm is not installed: apt-get install -y --no-install-recommends "
                "qemu-system-arm")
        return path


CATALOG: dict[str, BoardSpec] = {
    "stm32f4_discovery": BoardSpec(
        "stm32f4_discovery", "STM32F407 (Cortex-M4)",
        "platforms/boards/stm32f4_discovery.repl", "netduinoplus2",
        "sysbus.usart1", "sysbus.usart2", 0x080C0000, 0x080E0000,
        systick_hz=168_000_000, renode_svd=True),
    "arduino_nano_33_ble": BoardSpec(
        "arduino_nano_33_ble", "nRF52840 (Cortex-M4F)",
        "platforms/boards/arduino_nano_33_ble.repl", None,
        "sysbus.uart0", "sysbus.uart1", 0x000E0000, 0x000F0000,
        systick_hz=64_000_000, renode_svd=True,
        # Renode 1.15.3 has no NVMC: flash is plain memory, so a write is done at once
        renode_tags=((0x4001E400, "NVMC:READY", 0x1),)),
    "arduino_uno_r4_minima": BoardSpec(
        "arduino_uno_r4_minima", "RA4M1 (Cortex-M4)",
        "platforms/boards/arduino_uno_r4_minima.repl", None,
        "sysbus.sci2", "sysbus.sci0", 0x00030000, 0x00038000, systick_hz=48_000_000,
        wasm_ram=0, max_module_size=1536),  # 32 KiB SRAM: modules without linear memory, measured
    # 16550 UARTs with a receive FIFO: QEMU passes the link up to 14 bytes per main-loop
    # turn (the STM32 USART: one); the heap in the SOM's DDR takes modules of up to 128 KiB
    "emcraft_sf2_som": BoardSpec(
        "emcraft_sf2_som", "SmartFusion2 M2S010 (Cortex-M3)", None, "emcraft-sf2",
        "", "", 0x00038000, 0x0003C000, systick_hz=142_000_000,
        max_module_size=128 * 1024, in_default_run=False),
}


def renode_boards() -> list[str]:
    """The boards Renode ships a platform for: each has renode/<board>.repl and .resc."""
    return [name for name, spec in CATALOG.items() if spec.renode_platform is not None]


def board_spec(name: str) -> BoardSpec:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown board {name!r}; the catalog has {', '.join(CATALOG)}") from None
