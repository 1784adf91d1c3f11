"""A board's console UART as lines, read by a background thread from its TCP socket.

`wait_for_line` consumes output the way Renode's terminal tester does: each call searches
the lines after the previous match, so a test reads the console as a sequence of events.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

from wasmbed.waiting import WaitTimeout


class Console:
    def __init__(self, address: tuple[str, int], log_path: Path | None = None) -> None:
        self.sock = socket.create_connection(address, timeout=10)
        self.sock.settimeout(None)
        self.lines: list[str] = []
        self._partial = ""
        self._cursor = 0
        self._cond = threading.Condition()
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
                text = self._partial + data.decode("utf-8", "replace").replace("\r", "")
                *complete, self._partial = text.split("\n")
                self.lines.extend(complete)
                if self._log and complete:
                    self._log.write("".join(f"{line}\n" for line in complete))
                    self._log.flush()
                self._cond.notify_all()

    def wait_for_line(self, pattern: str, timeout: float = 10.0, *, regex: bool = True) \
            -> re.Match[str] | str:
        """The first line after the last match that matches; consumes up to it."""
        matcher = re.compile(pattern) if regex else None
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                while self._cursor < len(self.lines):
                    line = self.lines[self._cursor]
                    self._cursor += 1
                    found = matcher.search(line) if matcher else (line if pattern in line
                                                                  else None)
                    if found:
                        return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    tail = "\n".join(self.lines[-15:]) or "(no output)"
                    why = "console closed" if self._closed else f"timed out after {timeout} s"
                    raise WaitTimeout(f"{why} waiting for a console line matching "
                                      f"{pattern!r}; last lines:\n{tail}")
                self._cond.wait(remaining)

    def write(self, data: bytes) -> None:
        """Send bytes to the board's console UART input."""
        self.sock.sendall(data)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        if self._log:
            self._thread.join(2)
            self._log.close()
            self._log = None
