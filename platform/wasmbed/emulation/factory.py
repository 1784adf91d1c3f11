"""One way to get a board: a catalog name and an emulator choice give an EmulatedBoard
(QEMU or Renode). The harness, the API's boards, the benchmarks and the Robot keywords all
build boards here."""

from __future__ import annotations

from pathlib import Path

from wasmbed.emulation.board import EmulatedBoard
from wasmbed.emulation.catalog import BoardSpec, EmulatorUnavailable, board_spec
from wasmbed.emulation.qemu import QemuBoard
from wasmbed.emulation.renode import RenodeBoard, find_renode

EMULATORS = ("auto", "qemu", "renode")


def pick_emulator(emulator: str, spec: BoardSpec) -> str:
    """`auto`: QEMU where the board has a QEMU machine (the quick default), Renode for the
    others; `qemu` or `renode` as asked. Raises EmulatorUnavailable, saying what to
    install, when the board cannot run here that way."""
    if emulator not in EMULATORS:
        raise ValueError(f"emulator {emulator!r}: expected one of {', '.join(EMULATORS)}")
    if emulator == "auto":
        emulator = "qemu" if spec.qemu_machine is not None else "renode"
    if emulator == "renode" and spec.renode_platform is None:
        raise EmulatorUnavailable(f"Renode ships no platform for {spec.name} ({spec.mcu}): "
                                  "run it on QEMU (--emulator qemu)")
    if emulator == "renode" and find_renode() is None:
        raise EmulatorUnavailable(f"install Renode to run {spec.name} (renode on PATH, or "
                                  "WASMBED_RENODE=/path/to/renode)")
    if emulator == "qemu":
        spec.qemu_binary()  # says what to install, or that the board has no QEMU machine
    return emulator


def make_board(name: str, emulator: str, elf: Path, workdir: Path, *,
               blob: Path | None = None, loads: list[tuple[Path, int]] | None = None,
               ports: dict[str, int] | None = None,
               wrapper: list[str] | None = None) -> EmulatedBoard:
    """A board (not started) of catalog type `name`, running `elf`, with the provisioning
    `blob` at the board's provisioning address (or raw `loads`: (file, address) pairs).
    `wrapper` prefixes the emulator's command (QEMU only: the API hides its secrets)."""
    spec = board_spec(name)
    loads = list(loads or []) + ([(blob, spec.provision_addr)] if blob else [])
    if pick_emulator(emulator, spec) == "renode":
        return RenodeBoard(spec, elf, workdir, loads=loads, ports=ports)
    return QemuBoard(spec, elf, workdir, loads=loads, ports=ports, wrapper=wrapper)
