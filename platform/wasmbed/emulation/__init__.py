"""Emulated boards: the catalog, a console reader, and the QEMU backend (Renode later).

A board the machine cannot emulate is reported with what to install, never faked.
"""

from wasmbed.emulation.catalog import CATALOG, BoardSpec, EmulatorUnavailable, board_spec
from wasmbed.emulation.console import Console
from wasmbed.emulation.qemu import QemuBoard

__all__ = ["CATALOG", "BoardSpec", "Console", "EmulatorUnavailable", "QemuBoard", "board_spec"]
