"""A desk of stand-in boards (harness.lab.standin rigs) and the lab file that describes
them, as a user's lab file would describe real boards:

- a "probe" board: local serial ports (the rig's ptys), flashed and reset through its GDB
  server (QEMU's gdbstub in place of OpenOCD), power by command;
- a "command" board: serial ports on the network (ser2net's rfc2217, as for a board on
  another host), flashed and reset by commands (the rig's programmer), power by command,
  and no probe (so pause/resume skip, saying why).

    python -m harness.lab.desk DIR     # until Ctrl-C; then: pytest --lab DIR/lab.yaml
"""

from __future__ import annotations

import shutil
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import yaml

from wasmbed.processes import ManagedProcess, ProcessGroup
from wasmbed.serving import free_port
from wasmbed.waiting import Seen, wait_for

SER2NET_HINT = "apt-get install -y --no-install-recommends ser2net"


class DeskToolMissing(RuntimeError):
    """ser2net or QEMU is missing; the message says what to install."""


def _ctl(rig_dir: Path, *words: str) -> str:
    return " ".join([sys.executable, "-m", "harness.lab.standin", "ctl", str(rig_dir), *words])


class Desk:
    def __init__(self, directory: Path, group: ProcessGroup) -> None:
        self.dir = directory
        self.group = group
        self.boards: dict[str, dict[str, Any]] = {}

    def _rig(self, name: str, board: str) -> tuple[Path, dict[str, Any]]:
        if shutil.which("qemu-system-arm") is None:
            raise DeskToolMissing("qemu-system-arm is not installed: apt-get install -y "
                                  "--no-install-recommends qemu-system-arm")
        rig_dir = self.dir / name
        rig_dir.mkdir(parents=True, exist_ok=True)
        proc = self.group.add(ManagedProcess(
            f"rig-{name}", [sys.executable, "-m", "harness.lab.standin", "serve", str(rig_dir),
                            "--board", board], self.dir / f"rig-{name}.log",
            rig_dir / "rig.json"))
        return rig_dir, proc.start()

    def _ser2net(self, name: str, ports: dict[str, str]) -> dict[str, str]:
        """rfc2217 URLs for the ptys, served by one ser2net."""
        if shutil.which("ser2net") is None:
            raise DeskToolMissing(f"ser2net is not installed: {SER2NET_HINT}")
        urls, config, tcp_ports = {}, [], []
        for label, tty in ports.items():
            port = free_port()
            tcp_ports.append(port)
            config.append(f"connection: &{name}-{label}\n"
                          f"  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n"
                          f"  connector: serialdev,{tty},115200n81,local\n"
                          "  options:\n    kickolduser: true\n")
            # a pty cannot set modem lines, so ser2net does not confirm DTR/RTS changes
            urls[label] = f"rfc2217://127.0.0.1:{port}?ign_set_control"
        path = self.dir / f"ser2net-{name}.yaml"
        path.write_text("\n".join(config))
        proc = self.group.add(ManagedProcess(
            f"ser2net-{name}", ["ser2net", "-n", "-u", "-c", str(path),
                                "-P", str(self.dir / f"ser2net-{name}.pid")],
            self.dir / f"ser2net-{name}.log"))
        proc.start()

        def listening() -> bool | Seen:
            if not proc.alive:
                raise RuntimeError(f"ser2net exited: {proc.log_tail()}")
            for port in tcp_ports:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                except OSError:
                    return Seen(f"ser2net not listening on {port} yet")
            return True

        wait_for(listening, 15, "ser2net to listen")
        return urls

    def add_probe_board(self, name: str, board: str = "stm32f4_discovery",
                        labels: tuple[str, ...] = ()) -> None:
        if not (shutil.which("gdb-multiarch") or shutil.which("arm-none-eabi-gdb")):
            raise DeskToolMissing("gdb-multiarch is not installed (it flashes through the "
                                  "probe): apt-get install -y --no-install-recommends "
                                  "gdb-multiarch")
        rig_dir, rig = self._rig(name, board)
        self.boards[name] = {
            "type": board, "console": {"port": rig["console"]}, "link": {"port": rig["link"]},
            "probe": {"gdb": rig["gdb"], "halt": [], "reset": ["monitor system_reset"]},
            "flash": "probe", "reset": "probe",
            "power": {"off": _ctl(rig_dir, "power", "off"), "on": _ctl(rig_dir, "power", "on")},
            "labels": ["standin", "probe", *labels]}

    def add_command_board(self, name: str, board: str = "stm32f4_discovery",
                          labels: tuple[str, ...] = ()) -> None:
        rig_dir, rig = self._rig(name, board)
        urls = self._ser2net(name, {"console": rig["console"], "link": rig["link"]})
        self.boards[name] = {
            "type": board, "console": {"port": urls["console"]},
            "link": {"port": urls["link"]},
            "flash": {"command": _ctl(rig_dir, "flash", "{firmware}", "{blob}", "{blob_addr}")},
            "reset": {"command": _ctl(rig_dir, "reset")},
            "power": {"off": _ctl(rig_dir, "power", "off"), "on": _ctl(rig_dir, "power", "on")},
            "labels": ["standin", "network", *labels]}

    def write_lab(self, lock_dir: Path | None = None) -> Path:
        path = self.dir / "lab.yaml"
        lab: dict[str, Any] = {"boards": self.boards}
        if lock_dir:
            lab["lock_dir"] = str(lock_dir)
        path.write_text("# stand-in boards (QEMU), written by harness.lab.desk\n"
                        + yaml.safe_dump(lab, sort_keys=False))
        return path


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    directory = Path(sys.argv[1]).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    group = ProcessGroup()
    try:
        desk = Desk(directory, group)
        desk.add_probe_board("desk-probe")
        desk.add_command_board("desk-net")
        lab = desk.write_lab()
        print(f"lab file: {lab}\n  pytest scenarios/firmware --lab {lab}\nCtrl-C to stop")
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        group.reap()
    return 0


if __name__ == "__main__":
    sys.exit(main())
