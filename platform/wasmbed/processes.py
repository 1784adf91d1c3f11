"""Real processes for scenarios: started with their output in a log file, ready when
they write their ready file, and always reaped (SIGTERM, then SIGKILL) — also on failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wasmbed.waiting import Seen, wait_for

START_TIMEOUT = 30.0


class ProcessFailed(AssertionError):
    pass


def wasmbed_argv(*args: str) -> list[str]:
    """argv running the `wasmbed` CLI with this interpreter (no PATH assumptions)."""
    return [sys.executable, "-m", "wasmbed.cli", *args]


class ManagedProcess:
    def __init__(self, name: str, argv: Sequence[str], log_path: Path,
                 ready_file: Path | None = None, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.name = name
        self.cwd = cwd
        self.argv = list(argv)
        self.log_path = log_path
        self.ready_file = ready_file
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.starts = 0

    def __repr__(self) -> str:
        return f"<{self.name} pid={self.pid} alive={self.alive}>"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no output)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def set_arg(self, option: str, value: str) -> None:
        """Set the value after `option` for the next start (e.g. pin a port that was 0, so a
        restarted process comes back where its peers expect it)."""
        if option in self.argv:
            self.argv[self.argv.index(option) + 1] = value
        else:
            self.argv += [option, value]

    def start(self, timeout: float = START_TIMEOUT, *, wait: bool = True) -> dict[str, Any]:
        """Start; with a ready file, wait until it is written (`wait=False`: return at once,
        and call `wait_ready()` before relying on `info`)."""
        if self.alive:
            raise RuntimeError(f"{self.name} is already running")
        if self.ready_file:
            self.ready_file.unlink(missing_ok=True)
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"--- start #{self.starts}: {' '.join(self.argv)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd,
                                     start_new_session=True)
        log.close()
        if self.ready_file and wait:
            self.wait_ready(timeout)
        return self.info

    def wait_ready(self, timeout: float = START_TIMEOUT) -> dict[str, Any]:
        self.info = wait_for(self._ready, timeout, f"{self.name} to become ready")
        return self.info

    def _ready(self) -> Any:
        assert self.proc and self.ready_file
        if self.proc.poll() is not None:
            raise ProcessFailed(f"{self.name} exited with {self.proc.returncode} before it was "
                                f"ready; its output:\n{self.log_tail()}")
        if self.ready_file.exists():
            return json.loads(self.ready_file.read_text())
        return Seen("no ready file yet")

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._signal(signal.SIGCONT)  # a paused process cannot handle SIGTERM
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode

    def kill(self) -> None:
        """kill -9: no clean-up, no last words."""
        if self.proc and self.proc.poll() is None:
            self._signal(signal.SIGKILL)
            self.proc.wait(10)

    def pause(self) -> None:
        """SIGSTOP: the process hangs with its sockets open (hung, not dead)."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def restart(self, timeout: float = START_TIMEOUT) -> dict[str, Any]:
        self.stop()
        return self.start(timeout)

    def _signal(self, sig: signal.Signals) -> None:
        assert self.proc
        try:
            os.killpg(self.proc.pid, sig)  # the whole session: children too
        except ProcessLookupError:
            pass


class ProcessGroup:
    """Every process a test started; `reap()` stops them in reverse start order."""

    def __init__(self) -> None:
        self.processes: list[ManagedProcess] = []

    def add(self, proc: ManagedProcess) -> ManagedProcess:
        self.processes.append(proc)
        return proc

    def reap(self) -> list[str]:
        problems = []
        for proc in reversed(self.processes):
            try:
                proc.stop()
            except Exception as exc:
                problems.append(f"{proc.name}: {exc}")
        return problems

    def describe(self) -> str:
        return "\n".join(f"  {p.name}: pid {p.pid}, log {p.log_path}, {p.info}"
                         for p in self.processes if p.alive)
