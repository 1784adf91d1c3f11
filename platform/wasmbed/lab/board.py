"""A physical board from the lab file, driven through the same handle as an emulated one:
`start` (flash, verify, open the console), `console`, `link_endpoint` for the bridge,
`reset`, `power_cut`, `pause`/`resume`, `stop`. What the lab file gives it no means to do
raises BoardCannot, saying what to add (the harness turns it into a skip)."""

from __future__ import annotations

from pathlib import Path

from wasmbed.emulation.catalog import BoardSpec, board_spec
from wasmbed.emulation.console import Console
from wasmbed.lab.commands import run_command
from wasmbed.lab.flashing import flash_by_command, flash_image, flash_over_gdb, hex_image
from wasmbed.lab.labfile import LabBoardConfig, SerialPortConfig
from wasmbed.lab.rsp import GdbRemote, run_gdb_commands
from wasmbed.lab.serial_port import SerialChannel


class BoardCannot(NotImplementedError):
    """The board cannot do this with what the lab file describes."""


def serial_endpoint(port: SerialPortConfig) -> str:
    """How the bridge names a serial link: PORT@BAUD."""
    return f"{port.port}@{port.baud}"


class LabBoard:
    emulator = "lab"

    def __init__(self, name: str, config: LabBoardConfig, firmware: Path, workdir: Path, *,
                 blob: Path | None = None) -> None:
        self.name = name
        self.config = config
        self.spec: BoardSpec = board_spec(config.type)
        self.firmware = firmware
        self.blob = blob
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "lab.log"  # flashing, resets and power commands
        self.console: Console | None = None
        self.link_address: tuple[str, int] | None = None  # not TCP: see link_endpoint
        self._held: GdbRemote | None = None
        self._boot_pending = False

    @property
    def link_endpoint(self) -> str:
        return serial_endpoint(self.config.link)

    def _log(self, text: str) -> None:
        with self.log_path.open("a") as log:
            log.write(text.rstrip() + "\n")

    def _values(self, image: Path | None = None) -> dict[str, object]:
        probe = self.config.probe
        return {"elf": image or "", "hex": hex_image(image) if image else "",
                "firmware": self.firmware, "blob": self.blob or "",
                "blob_addr": f"0x{self.spec.provision_addr:08x}", "board": self.name,
                "gdb": probe.gdb if probe else ""}

    # --- lifecycle ----------------------------------------------------------------------

    def start(self, timeout: float = 60.0, *, run: bool = True) -> LabBoard:
        """Flash the firmware and blob (verified), open the console, then reset into the new
        firmware; with run=False the reset waits for resume() (attach the bridge first)."""
        try:
            image = flash_image(self.firmware, self.spec, self.blob,
                                self.workdir / "flash-image.elf")
            if self.config.flash == "probe":
                assert self.config.probe
                self._log(flash_over_gdb(self.config.probe, image))
            else:
                self._log(flash_by_command(self.config.flash.command, self._values(image)))
            self.console = Console(SerialChannel(self.config.console.port,
                                                 self.config.console.baud),
                                   self.workdir / "console.log")
            if run:
                self.reset()
            else:
                self._boot_pending = True
                if self.config.probe:
                    self._held = GdbRemote(self.config.probe.address)  # halted until resume
        except BaseException:
            self.stop()
            raise
        return self

    def reset(self) -> None:
        """Reset and run: through the probe, or by the lab file's reset command."""
        if self.config.reset == "probe":
            assert self.config.probe
            if self._held:  # paused: reset through the connection that holds it
                self._log(self._held.run(self.config.probe.reset))
            else:
                self._log(run_gdb_commands(self.config.probe.address, self.config.probe.reset))
        else:
            self._log(run_command("reset", self.config.reset.command, self._values()))

    def pause(self) -> None:
        """Halt the CPU through the probe (attaching halts it)."""
        if self.config.probe is None:
            raise BoardCannot(f"lab board {self.name} has no probe: pause/resume need "
                              "`probe: {gdb: host:port}` in the lab file")
        if self._held is None:
            self._held = GdbRemote(self.config.probe.address)

    def resume(self) -> None:
        """Let a paused CPU run on; after start(run=False), boot the new firmware (a reset
        through the connection that holds it, or the reset command once it is let go)."""
        if not self._boot_pending and self._held is None:
            raise BoardCannot(f"lab board {self.name} is not paused")
        boot, self._boot_pending = self._boot_pending, False
        if boot and self.config.reset == "probe":
            self.reset()
        held, self._held = self._held, None
        if held:
            held.release()
        if boot and self.config.reset != "probe":
            self.reset()

    def registers(self) -> dict[str, int]:
        """R0..R15 through the probe (the CPU halts for the read, then runs on)."""
        if self.config.probe is None:
            raise BoardCannot(f"lab board {self.name} has no probe to read registers with")
        if self._held:
            return self._held.core_registers()
        remote = GdbRemote(self.config.probe.address)
        try:
            return remote.core_registers()
        finally:
            remote.release()

    def power_cut(self) -> None:
        """Power off and on by the lab file's power commands; the console stays open (the
        serial adapter is powered by the host, as on a desk)."""
        power = self.config.power
        if power is None:
            raise BoardCannot(f"lab board {self.name} has no power control: add `power: "
                              "{off: ..., on: ...}` (uhubctl, a smart plug) to the lab file")
        if self._held:
            self._held.close()
            self._held = None
        self._log(run_command("power off", power.off, self._values()))
        self._log(run_command("power on", power.on, self._values()))

    def stop(self) -> None:
        """Let go of the board: the probe is detached (the board runs on) and the console
        closed. The board keeps its firmware; the next test flashes its own."""
        if self._held:
            try:
                self._held.release()
            except (OSError, ConnectionError):
                self._held.close()
            self._held = None
        if self.console:
            self.console.close()
            self.console = None
