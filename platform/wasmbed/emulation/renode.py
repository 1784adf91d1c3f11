"""Renode backend: one board per Renode process, driven over its monitor (telnet) port.

Renode is not installable on every machine (it is not here): this backend is written from
Renode's documented interfaces - `renode --disable-gui --plain --port N` serves the monitor
on a TCP port; commands are lines; the monitor answers with text (ANSI-coloured, errors in
red) and then a prompt `(monitor) ` or `(<machine>) `; `include @file.resc` runs a script;
`emulation CreateServerSocketTerminal PORT "name" false` + `connector Connect sysbus.<uart>
name` expose a UART on a TCP port. The board handle offers what QemuBoard offers (console,
link address, reset, pause/resume, power cut, stop), so scenarios do not care which runs.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from pathlib import Path

from wasmbed.emulation.board import EmulatedBoard
from wasmbed.emulation.catalog import BoardSpec, EmulatorUnavailable
from wasmbed.emulation.console import Console
from wasmbed.paths import REPO
from wasmbed.processes import ManagedProcess
from wasmbed.serving import free_port
from wasmbed.waiting import Seen, wait_for

RESC_DIR = REPO / "renode"
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
TELNET = re.compile(rb"\xff[\xfb-\xfe].|\xff[\xf0-\xfa]")
PROMPT = re.compile(rb"\(([\w.-]+)\) $")
ERROR_MARKERS = ("There was an error", "Could not", "No such command", "Error")


class RenodeError(RuntimeError):
    """The monitor refused a command; the message is Renode's."""


def find_renode() -> Path | None:
    """$WASMBED_RENODE, else `renode` on PATH."""
    env = os.environ.get("WASMBED_RENODE")
    if env:
        return Path(env) if Path(env).exists() else None
    found = shutil.which("renode")
    return Path(found) if found else None


def render_resc(spec: BoardSpec) -> str:
    """The board's Renode script (renode/<board>.resc is this, checked by a golden test)."""
    return f"""# The Wasmbed firmware on {spec.name} ({spec.mcu}), Renode's shipped platform.
# Set before running: $bin (firmware ELF), $blob (provisioning blob), $console_port and
# $link_port (TCP ports of the console and gateway-link UARTs; the bridge connects to the
# link port). Generated from the board catalog (wasmbed.emulation.renode.render_resc);
# runs under Renode, and under our QEMU keywords (robot/libraries) where QEMU has the board.
$name?="{spec.name}"
$bin?=@firmware/build/{spec.name}/firmware.elf
$console_port?=40110
$link_port?=40111

mach create $name
machine LoadPlatformDescription @{spec.renode_platform}
sysbus LoadELF $bin
sysbus LoadBinary $blob 0x{spec.provision_addr:08X}

emulation CreateServerSocketTerminal $console_port "console" false
connector Connect {spec.console_uart} console
emulation CreateServerSocketTerminal $link_port "link" false
connector Connect {spec.link_uart} link
"""


class MonitorClient:
    """Line commands over Renode's monitor socket, answers up to the next prompt."""

    def __init__(self, address: tuple[str, int], timeout: float = 30.0) -> None:
        self.sock = socket.create_connection(address, timeout=timeout)
        self.timeout = timeout
        self.buffer = b""
        self.machine = "monitor"
        self._read_until_prompt()  # the banner

    def _read_until_prompt(self) -> str:
        deadline = time.monotonic() + self.timeout
        while True:
            clean = TELNET.sub(b"", ANSI.sub(b"", self.buffer))
            m = PROMPT.search(clean)
            if m:
                self.machine = m.group(1).decode()
                self.buffer = b""
                return clean[:m.start()].decode(errors="replace")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no Renode prompt within {self.timeout} s; got: "
                                   f"{clean[-300:].decode(errors='replace')!r}")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                continue  # the deadline check above says what was received
            if not chunk:
                raise ConnectionError("Renode closed the monitor connection")
            self.buffer += chunk

    def execute(self, command: str) -> str:
        """Run one command; returns its output (the echo removed); RenodeError when the
        monitor reports an error."""
        self.sock.sendall(command.encode() + b"\n")
        out = self._read_until_prompt().replace("\r", "")
        lines = [ln for ln in out.split("\n") if ln.strip()]
        if lines and lines[0].strip() == command.strip():
            lines = lines[1:]  # the monitor echoes what it was sent
        text = "\n".join(lines)
        if any(line.lstrip().startswith(ERROR_MARKERS) for line in lines):
            raise RenodeError(f"Renode refused {command!r}: {text}")
        return text

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class RenodeBoard(EmulatedBoard):
    def __init__(self, spec: BoardSpec, elf: Path, workdir: Path, *,
                 loads: list[tuple[Path, int]] | None = None,
                 ports: dict[str, int] | None = None) -> None:
        renode = find_renode()
        if renode is None:
            raise EmulatorUnavailable(f"install Renode to run {spec.name} (renode on PATH, "
                                      "or WASMBED_RENODE=/path/to/renode)")
        if not elf.exists():
            raise FileNotFoundError(f"no firmware at {elf}: build it with `make -C firmware "
                                    f"firmware BOARD={spec.name}`")
        blobs = [p for p, addr in (loads or []) if addr == spec.provision_addr]
        if len(blobs) != 1:
            raise ValueError("Renode boards take exactly their provisioning blob as a load")
        self.spec, self.elf, self.workdir, self.blob = spec, elf, workdir, blobs[0]
        workdir.mkdir(parents=True, exist_ok=True)
        self.ports = {"console": free_port(), "link": free_port(), "monitor": free_port(),
                      **(ports or {})}
        self.log_path = workdir / "emulator.log"
        self.process = ManagedProcess(
            f"renode-{spec.name}", [str(renode), "--disable-gui", "--plain", "--port",
                                    str(self.ports["monitor"])], self.log_path)
        self.monitor: MonitorClient | None = None
        self.console: Console | None = None
        self.link_address: tuple[str, int] = ("127.0.0.1", self.ports["link"])

    def start(self, timeout: float = 60.0, *, run: bool = True) -> RenodeBoard:
        self.process.start()
        self.monitor = wait_for(self._connect, timeout, f"Renode's monitor on port "
                                f"{self.ports['monitor']}")
        for name, value in (("name", f'"{self.spec.name}"'), ("bin", f"@{self.elf}"),
                            ("blob", f"@{self.blob}"),
                            ("console_port", str(self.ports["console"])),
                            ("link_port", str(self.ports["link"]))):
            self.monitor.execute(f"${name}={value}")
        self.monitor.execute(f"include @{RESC_DIR / f'{self.spec.name}.resc'}")
        self.console = Console(("127.0.0.1", self.ports["console"]),
                               self.workdir / "console.log")
        if run:
            self.resume()
        return self

    def _connect(self) -> MonitorClient | Seen:
        if not self.process.alive:
            raise RuntimeError(f"Renode exited: {self.process.log_tail()}")
        try:
            return MonitorClient(("127.0.0.1", self.ports["monitor"]))
        except OSError as exc:
            return Seen(repr(exc))

    def _cmd(self, command: str) -> str:
        assert self.monitor, "the board is not started"
        return self.monitor.execute(command)

    def reset(self) -> None:
        self._cmd("machine Reset")

    def pause(self) -> None:
        self._cmd("pause")

    def resume(self) -> None:
        self._cmd("start")

    def _close_control(self) -> None:
        if self.monitor:
            self.monitor.close()
            self.monitor = None

    def stop(self) -> None:
        if self.monitor:
            try:
                self.monitor.sock.sendall(b"quit\n")
            except OSError:
                pass
        self._detach()
        self.process.stop()
