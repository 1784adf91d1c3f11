"""QEMU backend: one board per QEMU process. Both UARTs are TCP listeners on ports the
board keeps across power cycles, drawn outside the kernel's ephemeral range (free_port), so
that no other process's connection takes one while the board is off; the machine starts
paused (-S) and runs once the console is attached, so no boot output is lost."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

from qemu.qmp.legacy import QEMUMonitorProtocol

from wasmbed.emulation.board import EmulatedBoard
from wasmbed.emulation.catalog import BoardSpec
from wasmbed.emulation.console import Console
from wasmbed.processes import ManagedProcess
from wasmbed.serving import free_port
from wasmbed.waiting import Seen, wait_for


def connect_qmp(path: Path) -> QEMUMonitorProtocol | Seen:
    """A connected QMP client, or what stands in the way. QEMU creates the socket file when
    it binds, a moment before it listens: only a connect that is accepted means ready (probed
    with a plain socket first, so the QMP library does not log each early attempt as an
    error)."""
    if not path.exists():
        return Seen("no QMP socket yet")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(str(path))
    except OSError as e:
        return Seen(f"QMP socket not listening yet: {e}")
    qmp = QEMUMonitorProtocol(str(path))
    qmp.connect()
    return qmp


_ALLOWED_CPUS = sorted(os.sched_getaffinity(0))
# boards started by one process take the CPUs in turn, from a place its pid picks (so that
# parallel test workers do not all begin on the first)
_next_cpu = itertools.count(os.getpid())


def one_cpu() -> set[int]:
    """The CPU the next board runs on. A QEMU board is pinned to one CPU: every byte its
    UART receives is a hand-off between QEMU's I/O thread and its vCPU thread (the model
    takes one byte, then waits for the guest to read it), and on one CPU that hand-off is a
    context switch instead of a cross-CPU wake-up. Measured on 2 cores: a 16 KiB deploy in
    0.57-0.76 s pinned against 1.08-1.19 s unpinned."""
    return {_ALLOWED_CPUS[next(_next_cpu) % len(_ALLOWED_CPUS)]}


class QemuBoard(EmulatedBoard):
    emulator = "qemu"

    def __init__(self, spec: BoardSpec, elf: Path, workdir: Path, *,
                 loads: list[tuple[Path, int]] | None = None,
                 ports: dict[str, int] | None = None, wrapper: list[str] | None = None) -> None:
        """`ports`: fixed TCP ports for "console"/"link" (a Renode script's server socket
        terminals); free ones (free_port) when absent. `wrapper`: a command prefix for QEMU (the API
        server runs it under wasmbed.sandbox.hiding_prefix)."""
        if not elf.exists():
            raise FileNotFoundError(f"no firmware at {elf}: build it with `make -C firmware "
                                    f"firmware BOARD={spec.name}`")
        self.spec = spec
        self.elf = elf
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        # a unix socket path must stay under 108 bytes: a short private dir, not workdir
        self._sockdir = Path(tempfile.mkdtemp(prefix="wbq-"))
        self.qmp_path = self._sockdir / "qmp"
        self.loads = loads or []
        self.wrapper = list(wrapper or [])
        self.ports: dict[str, int] = {label: free_port() for label in ("console", "link")}
        self.ports.update(ports or {})  # kept across power cycles
        self.log_path = workdir / "emulator.log"  # QEMU's own log: guest errors, unimp
        self.process = ManagedProcess(f"qemu-{spec.name}", self._argv(), workdir / "qemu.log",
                                      cpus=one_cpu())
        self.console: Console | None = None
        self.qmp: QEMUMonitorProtocol | None = None
        self.link_address: tuple[str, int] | None = None

    def _argv(self) -> list[str]:
        spec = self.spec
        argv = [*self.wrapper, spec.qemu_binary(), "-M", spec.qemu_machine or "",
                "-kernel", str(self.elf),
                "-display", "none", "-monitor", "none", "-S",
                "-d", "guest_errors,unimp", "-D", str(self.log_path),
                "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        for label in ("console", "link"):
            port = self.ports[label]
            # nodelay: with Nagle each message waited ~40 ms for the peer's delayed ACK
            argv += ["-chardev", f"socket,id={label},host=127.0.0.1,port={port},server=on,"
                                 "wait=off,nodelay=on",
                     "-serial", f"chardev:{label}"]
        for path, addr in self.loads:
            argv += ["-device", f"loader,file={path},addr=0x{addr:08x},force-raw=on"]
        return argv

    # --- lifecycle ----------------------------------------------------------------------

    def start(self, timeout: float = 15.0, *, run: bool = True) -> QemuBoard:
        """Boot; with run=False the CPU stays halted until resume() (attach links first).
        Whatever fails, nothing is left running."""
        try:
            self.qmp_path.unlink(missing_ok=True)
            self.process.start()
            self.qmp = wait_for(self._qmp_ready, timeout,
                                f"QEMU's QMP socket for {self.spec.name} to accept")
            ports = self.ports = self._ports()
            self.process.argv = self._argv()  # a power cycle keeps the board's "wiring"
            self.link_address = ("127.0.0.1", ports["link"])
            self.console = Console(("127.0.0.1", ports["console"]),
                                   self.workdir / "console.log")
            if run:
                self.resume()
        except BaseException:
            self._detach()
            self.process.stop()
            raise
        return self

    def _qmp_ready(self) -> QEMUMonitorProtocol | Seen:
        if not self.process.alive:
            raise RuntimeError(f"QEMU exited: {self.process.log_tail()}")
        return connect_qmp(self.qmp_path)

    def _ports(self) -> dict[str, int]:
        assert self.qmp
        ports = {}
        for chardev in self.qmp.cmd("query-chardev"):
            m = re.search(r"tcp:[\d.]+:(\d+)", chardev["filename"])
            if m and chardev["label"] in ("console", "link"):
                ports[chardev["label"]] = int(m.group(1))
        return ports

    def link_attached(self) -> bool:
        if not self.qmp:
            return False
        for chardev in self.qmp.cmd("query-chardev"):
            if chardev["label"] == "link":  # "tcp:HOST:PORT,server=on <-> PEER" when in use
                return "<->" in chardev["filename"]
        return False

    def registers(self) -> dict[str, int]:
        """The CPU's core registers (R0..R15, XPSR, ...) as QEMU shows them."""
        assert self.qmp
        text = self.qmp.cmd("human-monitor-command", **{"command-line": "info registers"})
        return {name: int(value, 16) for name, value in
                re.findall(r"\b([A-Z][A-Z0-9]*)=([0-9a-fA-F]{8})\b", str(text))}

    def reset(self) -> None:
        """Warm reset: the CPU restarts; RAM marked .noinit survives, as on an MCU."""
        assert self.qmp
        self.qmp.cmd("system_reset")

    def pause(self) -> None:
        assert self.qmp
        self.qmp.cmd("stop")

    def resume(self) -> None:
        assert self.qmp
        self.qmp.cmd("cont")

    def _close_control(self) -> None:
        if self.qmp:
            with contextlib.suppress(Exception):
                self.qmp.close()
            self.qmp = None

    def stop(self) -> None:
        if self.qmp:
            with contextlib.suppress(Exception):
                self.qmp.cmd("quit")
        self._detach()
        self.process.stop()
        shutil.rmtree(self._sockdir, ignore_errors=True)
