"""Renode backend: one board per Renode process, driven over its monitor (telnet) port.

What a real Renode 1.15 does, and this client relies on:
- `renode --disable-gui --port N` serves the monitor over telnet on port N (on every
  address: we connect through 127.0.0.1 only). It opens with telnet negotiation and no
  prompt, and the first line a client sends is swallowed: we send a throwaway line, then
  `version` until it answers.
- Every command is echoed and answered; the answer ends with a coloured prompt
  `(monitor) ` or `(<machine>) `. Errors are written in red (`ESC[;031m`), which is how a
  failed command is told from output (so we run without `--plain`).
- The log goes to a file we name (`logFile`), not the console (`--hide-log`).
- Renode deletes `$TMPDIR/renode-*` folders it does not own at start: each board gets a
  private TMPDIR, and a private config file.
- The `renode` launcher does not exec mono: the board's process group is what we reap.
The board handle offers what QemuBoard offers (console, link address, reset, pause/resume,
power cut, stop), so scenarios do not care which emulator runs.
"""

from __future__ import annotations

import contextlib
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
# the prompt: bold red (monitor) or bold yellow (a machine), then a reset, at the very end
PROMPT = re.compile(rb"\x1b\[(?:31|33);1m\(([^()\r\n]+)\) \x1b\[0m$")
ERROR_TEXT = re.compile(rb"\x1b\[;031m(.*?)\x1b\[0m", re.S)
INSTALL_HINT = "(renode on PATH, or WASMBED_RENODE=/path/to/renode)"


class RenodeError(RuntimeError):
    """The monitor refused a command; the message is Renode's."""


def find_renode() -> Path | None:
    """$WASMBED_RENODE, else `renode` on PATH."""
    env = os.environ.get("WASMBED_RENODE")
    if env:
        return Path(env) if Path(env).exists() else None
    found = shutil.which("renode")
    return Path(found) if found else None


def render_repl(spec: BoardSpec) -> str:
    """The board's platform for Renode (renode/<board>.repl, checked by a golden test): the
    shipped board, with SysTick at the clock our firmware configures (Renode's defaults are
    not the boards': 72 MHz on STM32F4, 400 MHz on nRF52840, 120 MHz on RA4M1), without
    an SVD download where the shipped description asks for one, and with stand-ins for
    registers Renode does not model that the firmware polls (spec.renode_tags)."""
    text = f"""// {spec.name} ({spec.mcu}) as Renode ships it, with these changes. Generated from
// the board catalog (wasmbed.emulation.renode.render_repl).
using "{spec.renode_platform}"

// SysTick runs at the core clock the firmware sets up (BOARD_CPU_HZ in its board.h), as on
// the board itself; Renode's default differs, and every timeout would run fast or slow.
nvic:
    systickFrequency: {spec.systick_hz}
"""
    if spec.renode_svd or spec.renode_tags:
        text += """
// The shipped CPU description's sysbus init starts with ApplySVD of a file on the internet
// (register names for Renode's log): offline that is an error, and Renode's test runner
// fails on it. An `init:` section replaces the inherited one (the tags it drops name
// registers our firmware never touches); it needs a statement. Tags named after a register
// stand in for one Renode does not model (the value is what the firmware waits for).
sysbus:
    init:
"""
        for address, name, value in spec.renode_tags:
            text += f'        Tag <0x{address:08X}, 0x{address + 3:08X}> "{name}" 0x{value:X}\n'
        if not spec.renode_tags:
            text += '        Tag <0x5FFFFFF0, 0x5FFFFFF3> "WASMBED_NO_SVD" 0x0\n'
    return text


def render_resc(spec: BoardSpec) -> str:
    """The board's Renode script (renode/<board>.resc is this, checked by a golden test)."""
    return f'''# The Wasmbed firmware on {spec.name} ({spec.mcu}), on Renode's shipped board.
# Set before running: $bin (firmware ELF), $blob (provisioning blob), $console_port and
# $link_port (TCP ports of the console and gateway-link UARTs; the bridge connects to the
# link port). Generated from the board catalog (wasmbed.emulation.renode.render_resc);
# runs under Renode, and under our QEMU keywords (robot/libraries) where QEMU has the board.
$name?="{spec.name}"
$bin?=@firmware/build/{spec.name}/firmware.elf
$console_port?=40110
$link_port?=40111

mach create $name
machine LoadPlatformDescription $ORIGIN/{spec.name}.repl

# what `machine Reset` re-runs (Renode's convention): the firmware and its blob
macro reset
"""
    sysbus LoadELF $bin
    sysbus LoadBinary $blob 0x{spec.provision_addr:08X}
"""
runMacro $reset

emulation CreateServerSocketTerminal $console_port "console" false
connector Connect {spec.console_uart} console
emulation CreateServerSocketTerminal $link_port "link" false
connector Connect {spec.link_uart} link
'''


class MonitorClient:
    """Line commands over Renode's monitor socket; each answer is read up to the prompt."""

    def __init__(self, address: tuple[str, int], timeout: float = 30.0) -> None:
        self.sock = socket.create_connection(address, timeout=timeout)
        self.timeout = timeout
        self.buffer = b""
        self.machine = "monitor"
        try:
            self._sync(timeout)
        except BaseException:
            self.close()
            raise

    def _sync(self, timeout: float) -> None:
        """Renode swallows the first line a client sends (telnet negotiation): send a
        throwaway line, then `version` until an answer and a prompt come back."""
        self.sock.sendall(b"\n")
        deadline = time.monotonic() + timeout
        while True:
            self.sock.sendall(b"version\n")
            try:
                text = self._read_until_prompt(min(2.0, max(0.1, deadline - time.monotonic())))
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise
                continue
            if b"Renode, version" in text:
                self.version = _clean(text).split("Renode, version", 1)[1].split()[0]
                break
        self._drain(0.3)  # prompts answering the throwaway lines

    def _drain(self, quiet: float) -> None:
        self.sock.settimeout(quiet)
        with contextlib.suppress(TimeoutError):
            while self.sock.recv(4096):
                pass
        self.buffer = b""

    def _read_until_prompt(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while True:
            raw = TELNET.sub(b"", self.buffer)
            m = PROMPT.search(raw)
            if m:
                self.machine = m.group(1).decode()
                self.buffer = b""
                return raw[:m.start()]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no Renode prompt within {timeout:.0f} s; got: "
                                   f"{_clean(raw)[-300:]!r}")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue  # the deadline check above says what was received
            if not chunk:
                raise ConnectionError("Renode closed the monitor connection")
            self.buffer += chunk

    def execute(self, command: str, timeout: float | None = None) -> str:
        """Run one command; its output (without the echo). RenodeError with Renode's own
        words when the monitor writes an error."""
        self.sock.sendall(command.encode() + b"\n")
        raw = self._read_until_prompt(timeout or self.timeout)
        errors = [_clean(e).strip() for e in ERROR_TEXT.findall(raw)]
        lines = [ln for ln in _clean(raw).split("\n") if ln.strip()]
        if lines and lines[0].strip() == command.strip():
            lines = lines[1:]  # the monitor echoes what it was sent
        if errors:
            raise RenodeError(f"Renode refused {command!r}: " + " / ".join(e for e in errors if e))
        return "\n".join(lines)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _clean(raw: bytes) -> str:
    return ANSI.sub(b"", TELNET.sub(b"", raw)).decode(errors="replace").replace("\r", "")


class RenodeBoard(EmulatedBoard):
    emulator = "renode"

    def __init__(self, spec: BoardSpec, elf: Path, workdir: Path, *,
                 loads: list[tuple[Path, int]] | None = None,
                 ports: dict[str, int] | None = None) -> None:
        renode = find_renode()
        if renode is None:
            raise EmulatorUnavailable(f"install Renode to run {spec.name} {INSTALL_HINT}")
        if not elf.exists():
            raise FileNotFoundError(f"no firmware at {elf}: build it with `make -C firmware "
                                    f"firmware BOARD={spec.name}`")
        blobs = [p for p, addr in (loads or []) if addr == spec.provision_addr]
        if len(blobs) > 1 or len(blobs) != len(loads or []):
            raise ValueError("Renode boards take their provisioning blob as their only load")
        workdir.mkdir(parents=True, exist_ok=True)
        if not blobs:  # an unprovisioned board: its provisioning area reads as erased flash
            erased = workdir / "erased-provisioning.bin"
            erased.write_bytes(b"\xff" * 64)
            blobs = [erased]
        self.spec, self.elf, self.workdir, self.blob = spec, elf, workdir, blobs[0]
        tmp = workdir / "tmp"
        tmp.mkdir(exist_ok=True)
        self.ports = {"console": free_port(), "link": free_port(), "monitor": free_port(),
                      **(ports or {})}
        self.log_path = workdir / "emulator.log"  # Renode's log: what a log tester reads
        argv = [str(renode), "--disable-gui", "--hide-log", "--port", str(self.ports["monitor"]),
                "--config", str(workdir / "renode.config"),
                "-e", f"logFile @{self.log_path} true"]
        self.process = ManagedProcess(f"renode-{spec.name}", argv, workdir / "renode.log",
                                      env={"TMPDIR": str(tmp)})
        self.monitor: MonitorClient | None = None
        self.console: Console | None = None
        self.link_address: tuple[str, int] = ("127.0.0.1", self.ports["link"])

    def start(self, timeout: float = 90.0, *, run: bool = True) -> RenodeBoard:
        """Start Renode, load the board from renode/<board>.resc, attach the console;
        with run=False the machine stays paused until resume(). Whatever fails, nothing
        is left running."""
        try:
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
        except BaseException:
            self.stop()
            raise
        return self

    def _connect(self) -> MonitorClient | Seen:
        if not self.process.alive:
            raise RuntimeError(f"Renode exited before its monitor answered: "
                               f"{self.process.log_tail()}")
        try:
            return MonitorClient(("127.0.0.1", self.ports["monitor"]))
        except (OSError, TimeoutError) as exc:
            return Seen(repr(exc))

    def execute(self, command: str, timeout: float | None = None) -> str:
        """A monitor command on this board's Renode (e.g. `sysbus.cpu PC`)."""
        assert self.monitor, "the board is not started"
        return self.monitor.execute(command, timeout)

    def reset(self) -> None:
        self.execute("machine Reset")

    def pause(self) -> None:
        self.execute("pause")

    def resume(self) -> None:
        self.execute("start")

    def _close_control(self) -> None:
        if self.monitor:
            self.monitor.close()
            self.monitor = None

    def stop(self) -> None:
        if self.monitor:
            with contextlib.suppress(OSError):
                self.monitor.sock.sendall(b"quit\n")
        self._detach()
        self.process.stop(timeout=5)
