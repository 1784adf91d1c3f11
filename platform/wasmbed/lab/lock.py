"""Exclusive use of a lab board by one test at a time, across xdist workers and concurrent
runs on this host: an flock on a file per board, which also records the holder (pid, host,
test id, since) so that whoever waits can name it. The kernel drops the lock when its
holder dies, so a killed run never leaves a board locked."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wasmbed.waiting import Seen, WaitTimeout, wait_for

DEFAULT_LOCK_DIR = Path.home() / ".cache" / "wasmbed" / "locks"


class BoardBusy(WaitTimeout):
    """Another test held the board for the whole wait; `holder` says who."""

    def __init__(self, message: str, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.holder = holder


def describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "an unknown holder"
    since = time.time() - float(holder.get("since", time.time()))
    return (f"pid {holder.get('pid')} on {holder.get('host')} running "
            f"{holder.get('test') or '(no test id)'} for {since:.0f} s")


class BoardLock:
    def __init__(self, board: str, lock_dir: Path | None = None) -> None:
        self.board = board
        self.path = (lock_dir or DEFAULT_LOCK_DIR) / f"{board}.lock"
        self._fd: int | None = None
        self.waited = 0.0
        self.since = 0.0  # when we took it (wall clock)

    def holder(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def _try(self) -> bool | Seen:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return Seen(f"held by {describe(self.holder())}")
        self._fd = fd
        return True

    def acquire(self, test: str, timeout: float,
                on_wait: Callable[[str], None] | None = None) -> float:
        """Hold the board; returns the seconds waited. BoardBusy after `timeout`.
        `on_wait(line)` is told once, when the board is busy, what we wait for and who holds
        it (progress for the user)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        first = self._try()
        if not first and on_wait:
            on_wait(f"waiting up to {timeout:g} s for lab board {self.board}, held by "
                    f"{describe(self.holder())}")
        try:
            if not first:
                wait_for(self._try, timeout, f"lab board {self.board} to be free",
                         interval=0.2)
        except WaitTimeout:
            holder = self.holder()
            raise BoardBusy(f"lab board {self.board} stayed busy for {timeout:g} s: held by "
                            f"{describe(holder)}", holder) from None
        assert self._fd is not None
        self.since = time.time()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                        "test": test, "since": self.since}).encode(), 0)
        self.waited = time.monotonic() - started if not first else 0.0
        return self.waited

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
