"""Emulated boards: the catalog, a console reader, and two backends: QEMU and Renode.

A board the machine cannot emulate is reported with what to install, never faked.
"""

from wasmbed.emulation.board import EmulatedBoard
from wasmbed.emulation.catalog import (
    CATALOG,
    BoardSpec,
    EmulatorUnavailable,
    board_spec,
    renode_boards,
)
from wasmbed.emulation.console import Console
from wasmbed.emulation.factory import make_board, pick_emulator
from wasmbed.emulation.qemu import QemuBoard
from wasmbed.emulation.renode import RenodeBoard, find_renode

__all__ = ["CATALOG", "BoardSpec", "Console", "EmulatedBoard", "EmulatorUnavailable",
           "QemuBoard", "RenodeBoard", "board_spec", "find_renode", "make_board",
           "pick_emulator", "renode_boards"]
