"""A QEMU board standing in for a physical one, as a rig process.

What a desk has, modelled: two USB-serial adapters wired to the board's UARTs (pseudo-
terminals owned by the rig, so their paths outlive power cycles, as an adapter powered by
the host does), a debug probe (QEMU's gdbstub, on a port that also outlives power cycles),
flash that keeps its contents without power (saved at power-off, loaded at power-on), a
power switch and a reset line, and a vendor programmer. The last three answer on a control
socket, which `python -m harness.lab.standin ctl DIR COMMAND` speaks:

    power off | power on | reset | status | flash FIRMWARE.elf BLOB ADDR   (BLOB may be '')

    python -m harness.lab.standin serve DIR --board stm32f4_discovery
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import sys
import tty
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qemu.qmp import QMPClient

# The rig's own imports (QMP, the board catalog, the ready file: ~0.2 s of CPU) happen in
# the rig: `ctl` runs once per power, reset or flash command a lab file names, and needs
# only a socket.

FLASH = {"netduinoplus2": (0x08000000, 1024 * 1024)}  # base, size of the stand-in's flash
UARTS = ("console", "link")


class Adapter:
    """A USB-serial adapter: a pty whose far end the host opens, relayed to QEMU's UART
    socket while the board is powered (bytes for an unpowered board are dropped)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # kept open: the host side may close and reopen freely
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.writer: asyncio.StreamWriter | None = None
        asyncio.get_running_loop().add_reader(self.master, self._from_host)

    def _from_host(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except OSError:
            return
        if self.writer and not self.writer.is_closing():
            self.writer.write(data)

    async def attach(self, path: Path) -> None:
        reader, self.writer = await asyncio.open_unix_connection(str(path))
        asyncio.create_task(self._to_host(reader))

    async def _to_host(self, reader: asyncio.StreamReader) -> None:
        while data := await reader.read(4096):
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(self.master, data)  # a full tty drops, as a UART overruns

    def detach(self) -> None:
        if self.writer:
            self.writer.close()
            self.writer = None


class Rig:
    def __init__(self, directory: Path, board: str) -> None:
        from wasmbed.emulation.catalog import board_spec

        spec = board_spec(board)
        if spec.qemu_machine not in FLASH:
            raise SystemExit(f"{board} has no QEMU stand-in (QEMU machine "
                             f"{spec.qemu_machine!r})")
        self.spec = spec
        self.dir = directory
        self.flash_base, self.flash_size = FLASH[spec.qemu_machine]
        self.flash_file = directory / "flash.bin"  # the flash chip, while unpowered
        self.gdb_port = 0
        self.qemu: asyncio.subprocess.Process | None = None
        self.qmp: QMPClient | None = None
        self.adapters: dict[str, Adapter] = {}

    def _argv(self, *, kernel: Path | None, loads: list[tuple[Path, int]]) -> list[str]:
        qemu = shutil.which("qemu-system-arm")
        if qemu is None:
            raise SystemExit("qemu-system-arm is not installed")
        argv = [qemu, "-M", self.spec.qemu_machine or "", "-display", "none",
                "-monitor", "none", "-gdb", f"tcp:127.0.0.1:{self.gdb_port}",
                "-qmp", f"unix:{self.dir / 'qmp'},server=on,wait=off"]
        for label in UARTS:
            argv += ["-chardev", f"socket,id={label},path={self.dir / label}.sock,server=on,"
                     "wait=off", "-serial", f"chardev:{label}"]
        argv.append("-S")  # until the adapters are attached: no boot output is lost
        if kernel:
            argv += ["-kernel", str(kernel)]
        for path, addr in loads:
            argv += ["-device", f"loader,file={path},addr=0x{addr:08x},force-raw=on"]
        return argv

    async def power_on(self, *, halted: bool = False, kernel: Path | None = None,
                       loads: list[tuple[Path, int]] | None = None) -> None:
        from qemu.qmp import ConnectError, QMPClient

        loads = list(loads or [])
        if kernel is None and self.flash_file.exists():
            loads.insert(0, (self.flash_file, self.flash_base))
        elif kernel is None:
            halted = True  # blank flash: nothing to run until the probe writes some
        for leftover in ("qmp", "console.sock", "link.sock"):
            (self.dir / leftover).unlink(missing_ok=True)
        log = (self.dir / "qemu.log").open("ab")
        self.qemu = await asyncio.create_subprocess_exec(
            *self._argv(kernel=kernel, loads=loads),
            stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL)
        self.qmp = QMPClient("rig")
        for _ in range(200):  # QEMU binds its sockets within a few hundred ms
            if self.qemu.returncode is not None:
                raise RuntimeError(f"QEMU exited: see {self.dir / 'qemu.log'}")
            try:
                await self.qmp.connect(str(self.dir / "qmp"))
                break
            except (ConnectError, OSError):  # bound, not listening yet
                await asyncio.sleep(0.05)
        else:
            raise RuntimeError("QEMU's QMP socket never accepted")
        if not self.gdb_port:
            for chardev in await self.qmp.execute("query-chardev"):  # type: ignore[union-attr]
                m = re.search(r"tcp:[\d.]+:(\d+)", chardev["filename"])
                if chardev["label"] == "gdb" and m:
                    self.gdb_port = int(m.group(1))  # kept: the probe stays where it was
        for label in UARTS:
            await self.adapters[label].attach(self.dir / f"{label}.sock")
        if not halted:
            await self.qmp.execute("cont")

    async def power_off(self) -> None:
        """The flash keeps what was written to it; RAM and the CPU state are lost."""
        if self.qemu is None or self.qmp is None:
            return
        tmp = self.dir / "flash.tmp"
        await self.qmp.execute("pmemsave", {"val": self.flash_base, "size": self.flash_size,
                                            "filename": str(tmp)})
        tmp.replace(self.flash_file)
        for adapter in self.adapters.values():
            adapter.detach()
        with contextlib.suppress(Exception):
            await self.qmp.disconnect()
        self.qemu.kill()
        await self.qemu.wait()
        self.qemu = self.qmp = None

    async def reset(self) -> None:
        assert self.qmp, "the board is off"
        await self.qmp.execute("system_reset")
        await self.qmp.execute("cont")

    async def program(self, firmware: Path, blob: Path | None, addr: int) -> str:
        """What a vendor programmer does: write the image, verify it, leave the CPU halted
        (the reset line starts it)."""
        await self.power_off()
        self.flash_file.unlink(missing_ok=True)
        await self.power_on(halted=True, kernel=firmware,
                            loads=[(blob, addr)] if blob else [])
        if blob:
            back = self.dir / "verify.bin"
            assert self.qmp
            await self.qmp.execute("pmemsave", {"val": addr, "size": blob.stat().st_size,
                                                "filename": str(back)})
            if back.read_bytes() != blob.read_bytes():
                raise RuntimeError(f"verify failed at 0x{addr:08x}")
        return f"programmed {firmware.name}" + (f" and {blob.name} at 0x{addr:08x}" if blob
                                                else "") + ", verified"

    async def command(self, line: str) -> str:
        words = line.split(" ")
        match words:
            case ["power", "off"]:
                await self.power_off()
                return "off"
            case ["power", "on"]:
                if self.qemu is None or self.qemu.returncode is not None:
                    await self.power_on()
                return "on"
            case ["reset"]:
                await self.reset()
                return "reset"
            case ["status"]:
                if self.qmp is None:
                    return "off"
                return str((await self.qmp.execute("query-status"))["status"])  # type: ignore[index]
            case ["flash", firmware, blob, addr]:
                return await self.program(Path(firmware), Path(blob) if blob else None,
                                          int(addr, 0))
        raise ValueError(f"unknown command {line!r}")

    async def serve(self) -> None:
        from wasmbed.serving import write_ready

        for label in UARTS:
            self.adapters[label] = Adapter(label)
        await self.power_on()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            line = (await reader.readline()).decode().rstrip("\n")
            try:
                writer.write(f"ok {await self.command(line)}\n".encode())
            except Exception as exc:  # the caller gets the reason, the rig lives on
                writer.write(f"error {exc}\n".encode())
            await writer.drain()
            writer.close()

        ctl = self.dir / "ctl.sock"
        ctl.unlink(missing_ok=True)
        server = await asyncio.start_unix_server(handle, str(ctl))
        write_ready(self.dir / "rig.json", {
            "board": self.spec.name, "gdb": f"127.0.0.1:{self.gdb_port}",
            **{label: adapter.path for label, adapter in self.adapters.items()}})
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()
        if self.qemu:
            self.qemu.kill()
            await self.qemu.wait()


def ctl(directory: Path, words: list[str]) -> int:
    """One control command; prints the rig's answer; exit 1 on an error."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(60)
        try:
            sock.connect(str(directory / "ctl.sock"))
        except OSError as exc:
            print(f"error no rig answers at {directory / 'ctl.sock'} ({exc.strerror}): start "
                  f"one with `python -m harness.lab.standin serve {directory}`")
            return 1
        sock.sendall((" ".join(words) + "\n").encode())
        answer = sock.makefile().readline().strip()
    print(answer)
    return 0 if answer.startswith("ok") else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.lab.standin",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    serve = sub.add_parser("serve", help="run a stand-in board until SIGTERM")
    serve.add_argument("dir", type=Path)
    serve.add_argument("--board", default="stm32f4_discovery")
    control = sub.add_parser("ctl", help="power off|power on|reset|flash ELF BLOB ADDR")
    control.add_argument("dir", type=Path)
    control.add_argument("words", nargs="+")
    args = parser.parse_args(argv)
    if args.verb == "ctl":
        return ctl(args.dir, args.words)
    args.dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(Rig(args.dir, args.board).serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
