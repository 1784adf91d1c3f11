"""A board's console UART as lines, read by a background thread from its TCP socket (an
emulator) or its serial port (a lab board).

`wait_for_line` consumes output the way Renode's terminal tester does: each call searches
the lines after the previous match, so a test reads the console as a sequence of events.
With `include_unfinished` it also matches the line still being written (a prompt); the
part it consumed is not matched again once that line completes. As Renode's tester does,
lines lose their carriage returns and ANSI colour (SGR) codes before anyone matches them;
other readers (robot's terminal testers) follow `lines` and `partial` under `cond`, or
`received` (every byte as it came, for binary-mode testers).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from wasmbed.waiting import WaitTimeout

SGR = re.compile(r"\x1b\[[0-9;]*m")


class Channel(Protocol):
    """Where console bytes come from: an emulator's TCP socket or a serial port."""

    def recv(self, size: int, /) -> bytes: ...  # b"" once closed
    def send(self, data: bytes, /) -> Any: ...
    def close(self) -> None: ...


def tcp_channel(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=10)
    sock.settimeout(None)
    return sock


class Console:
    def __init__(self, source: tuple[str, int] | Channel, log_path: Path | None = None) \
            -> None:
        """`source`: an emulator UART's TCP address, or a channel (a serial port)."""
        self.sock: Channel = tcp_channel(source) if isinstance(source, tuple) else source
        self.lines: list[str] = []
        self.times: list[float] = []  # when each line completed (monotonic seconds)
        self.started = time.monotonic()
        self.received = bytearray()  # every byte, NULs and carriage returns included
        self._partial = ""
        self._partial_used = 0  # chars of the unfinished line a match already consumed
        self._offsets: dict[int, int] = {}  # line index -> chars consumed while unfinished
        self._cursor = 0
        self._cond = threading.Condition()
        self.cond = self._cond  # readers wait on it for new output
        self._log = log_path.open("a") if log_path else None
        self._closed = False
        self._thread = threading.Thread(target=self._pump, daemon=True, name="console")
        self._thread.start()

    def _pump(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._closed = True
                    self._cond.notify_all()
                    return
                self.received += data
                text = self._partial + data.decode("utf-8", "replace").replace("\r", "")
                *complete, self._partial = text.split("\n")
                complete = [SGR.sub("", line) for line in complete]
                if complete and self._partial_used:
                    self._offsets[len(self.lines)] = self._partial_used
                    self._partial_used = 0
                self.lines.extend(complete)
                self.times.extend([time.monotonic()] * len(complete))
                if self._log and complete:
                    self._log.write("".join(f"{line}\n" for line in complete))
                    self._log.flush()
                self._cond.notify_all()

    def wait_for_line(self, pattern: str, timeout: float = 10.0, *, regex: bool = True,
                      include_unfinished: bool = False) -> re.Match[str] | str:
        """The first line after the last match that matches (a regex match object, or the
        line for a plain substring); consumes output up to it. A wait that times out
        consumes nothing (so "should not appear" checks leave the output to later waits)."""
        matcher = re.compile(pattern) if regex else None

        def match(text: str) -> re.Match[str] | str | None:
            if matcher:
                return matcher.search(text)
            return text if pattern in text else None

        deadline = time.monotonic() + timeout
        with self._cond:
            start = self._cursor
            while True:
                while self._cursor < len(self.lines):
                    index = self._cursor
                    self._cursor += 1
                    found = match(self.lines[index][self._offsets.get(index, 0):])
                    if found:
                        return found
                if include_unfinished and self._partial[self._partial_used:]:
                    found = match(self._partial[self._partial_used:])
                    if found:
                        self._partial_used = len(self._partial)
                        return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    self._cursor = start  # a failed wait consumes nothing
                    raise WaitTimeout(self._failure(f"a console line matching {pattern!r}",
                                                    timeout))
                self._cond.wait(remaining)

    @property
    def partial(self) -> str:
        """The line being written now (no newline yet), colour codes removed."""
        return SGR.sub("", self._partial)

    @property
    def closed(self) -> bool:
        return self._closed

    def next_line(self, timeout: float = 10.0) -> str:
        """The next complete line after the last match (consumed)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._cursor >= len(self.lines):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise WaitTimeout(self._failure("the next console line", timeout))
                self._cond.wait(remaining)
            index = self._cursor
            self._cursor += 1
            return self.lines[index][self._offsets.get(index, 0):]

    def report(self) -> str:
        """Every line seen, with a marker where the unconsumed output starts."""
        with self._cond:
            seen = self.lines[:self._cursor] + ["----- not yet matched -----"] + \
                self.lines[self._cursor:]
            return "\n".join(seen + ([self._partial] if self._partial else []))

    def _failure(self, what: str, timeout: float) -> str:
        why = "console closed" if self._closed else f"timed out after {timeout} s"
        tail = "\n".join(self.lines[-15:]) or "(no output)"
        if self._partial:
            tail += f"\n{self._partial}  <- unfinished"
        return f"{why} waiting for {what}; last lines:\n{tail}"

    def write(self, data: bytes) -> None:
        """Send bytes to the board's console UART input."""
        if isinstance(self.sock, socket.socket):
            self.sock.sendall(data)
        else:
            self.sock.send(data)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        if self._log:
            self._thread.join(2)
            self._log.close()
            self._log = None
