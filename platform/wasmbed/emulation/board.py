"""What both emulator backends share: a board is an emulator process, a console, and a
control channel (QEMU's QMP, Renode's monitor); a power cut kills the process and boots a
new one with the same wiring."""

from __future__ import annotations

from typing import Any

from wasmbed.emulation.console import Console
from wasmbed.processes import ManagedProcess
from wasmbed.waiting import wait_for

LINK_REATTACH_S = 15.0  # the bridge retries its board every 0.2 s


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

    def resume(self) -> None:
        raise NotImplementedError

    def link_attached(self) -> bool:
        """Whether a peer (the bridge) is connected to the link UART's socket; False where
        the backend cannot tell."""
        return False

    def _close_control(self) -> None:
        """Close the backend's control connection (QMP, monitor)."""
        raise NotImplementedError

    def _detach(self) -> None:
        if self.console:
            self.console.close()
            self.console = None
        self._close_control()

    def power_cut(self) -> None:
        """Power off and on: the process dies (RAM is lost) and a new one boots. A board's
        wires stay connected through a power cut; an emulator's link socket does not, and
        what the firmware sends before the bridge is back (its ClientHello, within
        milliseconds of boot) is lost, costing it a whole handshake timeout. So the new
        board stays halted until the link's peer, if it had one, has reconnected."""
        attached = self.link_attached()
        self._detach()
        self.process.kill()
        self.start(run=False)
        if attached:
            wait_for(self.link_attached, LINK_REATTACH_S,
                     "the link's peer (the bridge) to reconnect after the power cut")
        self.resume()
