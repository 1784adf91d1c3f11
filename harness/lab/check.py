"""`wasmbed-hil lab check FILE`: before a long run, what of each lab board answers: the lab
file, each serial port opened, each GDB server attached to (which halts the CPU for a
moment; it runs on after), and who holds the board now."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wasmbed.lab.labfile import LabBoardConfig, LabConfig, load_lab
from wasmbed.lab.lock import BoardLock, describe
from wasmbed.lab.rsp import GdbRemote
from wasmbed.lab.serial_port import SerialChannel


@dataclass
class Finding:
    board: str
    part: str
    ok: bool
    detail: str


def _serial(board: str, part: str, port: str, baud: int) -> Finding:
    try:
        SerialChannel(port, baud).close()
    except (ConnectionError, OSError) as exc:
        return Finding(board, part, False, str(exc))
    return Finding(board, part, True, f"{port} opens at {baud} baud")


def _probe(board: str, config: LabBoardConfig) -> Finding:
    assert config.probe
    try:
        remote = GdbRemote(config.probe.address, timeout=5)
        reason = remote.stop_reason
        remote.release()
    except (ConnectionError, OSError, AssertionError) as exc:
        return Finding(board, "probe", False, str(exc))
    return Finding(board, "probe", True, f"GDB server at {config.probe.gdb} answers "
                                         f"(stop reply {reason[:3]})")


def check_board(name: str, config: LabBoardConfig, lab: LabConfig) -> list[Finding]:
    found = [_serial(name, "console", config.console.port, config.console.baud),
             _serial(name, "link", config.link.port, config.link.baud)]
    if config.probe:
        found.append(_probe(name, config))
    holder = BoardLock(name, lab.lock_dir).holder()
    found.append(Finding(name, "lock", True, f"held by {describe(holder)}" if holder
                         else "free"))
    return found


def check_lab(path: Path) -> list[Finding]:
    """Raises LabFileError for a bad file."""
    lab = load_lab(path)
    return [f for name, board in lab.boards.items() for f in check_board(name, board, lab)]
