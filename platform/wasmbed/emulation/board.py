"""What both emulator backends share: a board is an emulator process, a console, and a
control channel (QEMU's QMP, Renode's monitor); a power cut kills the process and boots a
new one with the same wiring."""

from __future__ import annotations

from typing import Any

from wasmbed.emulation.console import Console
from wasmbed.processes import ManagedProcess


class EmulatedBoard:
    emulator: str  # "qemu" or "renode"
    process: ManagedProcess
    console: Console | None
    link_address: tuple[str, int] | None

    @property
    def link_endpoint(self) -> str:
        """The link UART as the bridge names it (HOST:PORT)."""
        assert self.link_address is not None, "the board is not started"
        return f"{self.link_address[0]}:{self.link_address[1]}"

    def start(self, timeout: float = 60.0, *, run: bool = True) -> Any:
        raise NotImplementedError

    def _close_control(self) -> None:
        """Close the backend's control connection (QMP, monitor)."""
        raise NotImplementedError

    def _detach(self) -> None:
        if self.console:
            self.console.close()
            self.console = None
        self._close_control()

    def power_cut(self) -> None:
        """Power off and on: the process dies (RAM is lost) and a new one boots."""
        self._detach()
        self.process.kill()
        self.start()
