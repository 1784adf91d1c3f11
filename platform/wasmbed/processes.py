"""Real processes for scenarios: started with their output in a log file, ready when
they write their ready file, and always reaped (SIGTERM, then SIGKILL) — also on failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from wasmbed.waiting import Seen, wait_for

START_TIMEOUT = 30.0
# What the fork server imports once, so a `wasmbed` service forked from it starts in a
# fraction of the ~2 s its imports (FastAPI, cryptography, wasmtime) cost a fresh Python.
FORKSERVER_PRELOAD = ["wasmbed.cli", "wasmbed.api.main", "wasmbed.gateway.main",
                      "wasmbed.device.fleet", "wasmbed.bridge.main", "wasmbed.warm"]


class ProcessFailed(AssertionError):
    pass


def wasmbed_argv(*args: str) -> list[str]:
    """argv running the `wasmbed` CLI with this interpreter (no PATH assumptions)."""
    return [sys.executable, "-m", "wasmbed.cli", *args]


class _Forked:
    """The part of Popen that ManagedProcess uses, over a process the fork server made
    (multiprocessing keeps its exit status: the fork server is its parent, not us)."""

    def __init__(self, proc: Any, argv: list[str]) -> None:
        self._proc, self.args, self.pid = proc, argv, proc.pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self._proc.exitcode is not None:
            self.returncode = self._proc.exitcode
            self._proc.close()  # frees its sentinel: a long run starts thousands
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._proc.join(timeout)
        code = self.poll()
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        return code


def _forked_cli(args: list[str], env: dict[str, str], cwd: str | None, log: str) -> None:
    """In the forked child: become what `python -m wasmbed.cli ARGS` would have been (own
    session, output to the log, the given environment and directory), then run it."""
    import io

    os.setsid()  # its own process group: signals reach it and what it starts
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
    os.environ.clear()
    os.environ.update(env)
    if cwd:
        os.chdir(cwd)
    sys.argv = ["wasmbed", *args]
    from wasmbed.cli import main

    main()


_FORK_CONTEXT: Any = None


def _fork_context() -> Any:
    global _FORK_CONTEXT
    if _FORK_CONTEXT is None:
        import multiprocessing

        _FORK_CONTEXT = multiprocessing.get_context("forkserver")
        _FORK_CONTEXT.set_forkserver_preload(FORKSERVER_PRELOAD)
    return _FORK_CONTEXT


class ManagedProcess:
    # Start `wasmbed` services from a pre-imported fork server (the harness turns it on;
    # WASMBED_NO_FORKSERVER=1 turns it off). Other commands always start as themselves.
    use_forkserver: ClassVar[bool] = False

    def __init__(self, name: str, argv: Sequence[str], log_path: Path,
                 ready_file: Path | None = None, env: dict[str, str] | None = None,
                 cwd: Path | None = None, cpus: set[int] | None = None) -> None:
        """`cpus`: the CPUs it (with all its threads and children) may run on; any when
        None."""
        self.name = name
        self.cwd = cwd
        self.cpus = cpus
        self.argv = list(argv)
        self.log_path = log_path
        self.ready_file = ready_file
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc: subprocess.Popen[bytes] | _Forked | None = None
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
        with self.log_path.open("ab") as log:
            log.write(f"--- start #{self.starts}: {' '.join(self.argv)}\n".encode())
        cli = wasmbed_argv()
        if self.use_forkserver and self.argv[:len(cli)] == cli and self.cpus is None and \
                not os.environ.get("WASMBED_NO_FORKSERVER"):
            child = _fork_context().Process(
                target=_forked_cli, name=self.name, daemon=False,
                args=(self.argv[len(cli):], dict(self.env),
                      str(self.cwd) if self.cwd else None, str(self.log_path)))
            child.start()
            self.proc = _Forked(child, self.argv)
        else:
            with self.log_path.open("ab") as out:
                pin = None if self.cpus is None else partial(os.sched_setaffinity, 0, self.cpus)
                self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, env=self.env,
                                             cwd=self.cwd, start_new_session=True,
                                             preexec_fn=pin)
        if self.ready_file and wait:
            self.wait_ready(timeout)
        return self.info

    def wait_ready(self, timeout: float = START_TIMEOUT) -> dict[str, Any]:
        # a stat per check: cheap enough to look every 10 ms
        self.info = wait_for(self._ready, timeout, f"{self.name} to become ready",
                             interval=0.01)
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
        self.terminate()
        return self.wait_stopped(timeout)

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM to its process group), without waiting."""
        if self.proc is not None and self.proc.poll() is None:
            self._signal(signal.SIGCONT)  # a paused process cannot handle SIGTERM
            self._signal(signal.SIGTERM)

    def wait_stopped(self, timeout: float = 10.0) -> int | None:
        """Wait up to `timeout` for it and everything in its process group to exit after
        `terminate` (a wrapper such as faketime may outlive its child, or the other way
        round), then SIGKILL what is left."""
        if self.proc is None:
            return None
        deadline = time.monotonic() + max(timeout, 0.0)
        try:
            self.proc.wait(max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(10)
        killed = False
        while self._group_alive() and time.monotonic() < deadline + 10:
            if not killed and time.monotonic() >= deadline:
                self._signal(signal.SIGKILL)
                killed = True
            time.sleep(0.01)  # polling the group's end: no event tells us
        return self.proc.returncode

    def _group_alive(self) -> bool:
        assert self.proc
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

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
        except ProcessLookupError:  # a forked child not yet in its own session
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass


class ProcessGroup:
    """Every process a test started; `reap()` stops them all at once (SIGTERM to each, in
    reverse start order, then one shared deadline), so a test's tear-down costs the
    slowest stop, not the sum."""

    def __init__(self) -> None:
        self.processes: list[ManagedProcess] = []

    def add(self, proc: ManagedProcess) -> ManagedProcess:
        self.processes.append(proc)
        return proc

    def reap(self, timeout: float = 10.0) -> list[str]:
        problems = []
        for proc in reversed(self.processes):
            try:
                proc.terminate()
            except Exception as exc:
                problems.append(f"{proc.name}: {exc}")
        deadline = time.monotonic() + timeout
        for proc in reversed(self.processes):
            try:
                proc.wait_stopped(deadline - time.monotonic())
            except Exception as exc:
                problems.append(f"{proc.name}: {exc}")
        return problems

    def describe(self) -> str:
        """The running processes as a table: name, pid, where to reach it, its log."""
        rows = [("process", "pid", "reach it at", "log")]
        for p in self.processes:
            if not p.alive:
                continue
            reach = [f"{k}={v}" for k, v in p.info.items()
                     if isinstance(v, str) and (v.startswith(("http://", "https://"))
                                                or v.rpartition(":")[2].isdigit())]
            rows.append((p.name, str(p.pid), " ".join(reach) or "-", str(p.log_path)))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False))
                         + "  " + r[3] for r in rows)
