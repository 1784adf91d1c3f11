"""Renode 1.15.3's Robot keywords over our QEMU backend, so a suite written for
`renode-test` runs here unchanged (and the other way round).

Names, arguments and defaults are Renode's: robot/libraries/renode_keywords.json is
generated from Renode's own source (tools/renode_keywords.py) and a test checks we match it.
Behaviour follows that source (RobotFrameworkEngine's UartKeywords, RenodeKeywords,
CpuKeywords and Testing/TerminalTester):
- tester ids start at 0, and a second tester on the same UART is the existing one; with
  several testers and no id given, Renode's "more than one tester" error; `Set Default
  Tester` checks the id and takes none (`null`, `None`) to clear it;
- `Create Terminal Tester` sets the pause/match-next-line defaults of every tester;
- a wait starts the emulation when it is not running; a match consumes every line up to it
  (an unfinished-line match consumes everything seen); a failed wait consumes nothing;
- lines lose CR and ANSI colour codes before matching; a result's line keeps printable
  ASCII only; groups that did not take part in the match are "";
- results are {line, groups, timestamp} (timestamp: ms since the board started);
- `Write Line To Uart` sends content and CR and waits for the echo even when content is
  empty, unless waitForEcho is false.
What QEMU cannot honour is refused with a reason (see UNSUPPORTED). Timeouts are wall-clock
seconds here, virtual seconds in Renode. A terminal tester exists only for a board's console
UART: the link UART carries TLS to the gateway.
"""

from __future__ import annotations

import re
import shlex
import shutil
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError
from robot.utils import DotDict
from robotlibcore import DynamicCore, keyword

from harness.lab.uart_server import UartServer
from wasmbed.emulation import CATALOG, BoardSpec, QemuBoard, make_board, renode_boards
from wasmbed.emulation.console import Console
from wasmbed.lab.board import LabBoard
from wasmbed.lab.labfile import LabConfig, load_lab, select_boards
from wasmbed.lab.lock import BoardBusy, BoardLock

DEFAULT_UART_TIMEOUT = 8.0  # Renode's globalTimeout
LINK_ATTACH_WAIT = 10.0  # s a lab board waits for the bridge on its link before booting
UNSUPPORTED = {
    "Execute Python": "Renode's monitor runs IronPython inside the emulator; QEMU has none",
    "Stop Remote Server": "there is no remote server: the library runs in the robot process",
    "Handle Hot Spot": "hot spots replay Renode's own keyword recorder around its GUI",
    "Wait For Pause": "QEMU does not pause on its own at a virtual-time hook",
    "Run Until Breakpoint": "our QEMU boards run without a GDB stub",
    "Open GUI": "headless only", "Close GUI": "headless only",
    "Enable Logging To Cache": "the emulator log is already a file per machine",
    "Save Cached Log": "the emulator log is already a file per machine",
    "Clear Cached Log": "the emulator log is already a file per machine",
    "Log To File": "the emulator log is already a file (emulator.log per machine)",
    "Wait For Lines On Uart": "not needed by our suites yet (several Wait For Line On Uart)",
    "Write Char Delay": "QEMU's UART takes input at socket speed; no per-character pacing",
    "Create Led Tester": "our boards' firmware drives no LED",
    "Set Default Led Timeout": "our boards' firmware drives no LED",
    "Assert Led State": "our boards' firmware drives no LED",
    "Assert And Hold Led State": "our boards' firmware drives no LED",
    "Assert Led Duty Cycle": "our boards' firmware drives no LED",
    "Assert Led Is Blinking": "our boards' firmware drives no LED",
    "Create Network Interface Tester": "our boards have no emulated network interface",
    "Wait For Outgoing Packet": "our boards have no emulated network interface",
    "Wait For Outgoing Packet With Bytes At Index": "our boards have no emulated network "
                                                    "interface",
    "Send Frame": "our boards have no emulated network interface",
}
# not re-executed by Requires (Renode's Replay.Never, and the snapshot keywords themselves)
NOT_RECORDED = {"provides", "requires", "reset_emulation", "log_to_file"}
# what we take from Renode after 1.15.3 (its master, RobotFrameworkEngine, late 2026):
# keywords 1.15.3 lacks, and trailing arguments added to 1.15.3 keywords (pass them by name;
# on renode-test 1.15.3 a suite using them fails with "Arguments types do not match")
AFTER_RENODE_1_15_3: dict[str, list[str]] = {
    "Wait For Bytes On Uart": [], "Allocate Temporary Directory": [],
    "Create Terminal Tester": ["binaryMode"],
    "Create Log Tester": ["maxLogEntries"],
    "Wait For Log Entry": ["startEmulation"],
}


def _robot_running() -> bool:
    try:
        BuiltIn().get_variable_value("${OUTPUT DIR}")
    except RobotNotRunningError:  # used as a plain library (unit tests)
        return False
    return True


class NotSupportedOnQemu(AssertionError):
    pass


class KeywordError(AssertionError):
    """A failure with Renode's own wording."""


@dataclass
class Machine:
    name: str
    spec: BoardSpec | None = None
    elf: Path | None = None
    loads: list[tuple[Path, int]] = field(default_factory=list)
    terminals: dict[str, int] = field(default_factory=dict)  # terminal name -> TCP port
    wiring: dict[str, str] = field(default_factory=dict)  # uart -> terminal name
    board: QemuBoard | LabBoard | None = None
    started_running: bool = False
    lab: LabMachine | None = None  # a lab board's lock and link server

    def ports(self) -> dict[str, int]:
        """QEMU's chardev ports, from the script's terminals and connector wiring."""
        assert self.spec
        roles = {self.spec.console_uart: "console", self.spec.link_uart: "link"}
        return {roles[uart]: self.terminals[term] for uart, term in self.wiring.items()
                if uart in roles and term in self.terminals}


@dataclass
class LabMachine:
    lock: BoardLock
    link: UartServer | None = None

    def release(self) -> None:
        if self.link:
            self.link.close()
        self.lock.release()


class Tester:
    """Renode's TerminalTester over a board console's lines: its own consumption cursor,
    and a report of everything it has seen and every event."""

    def __init__(self, machine: Machine, uart: str, timeout: float, binary: bool = False) \
            -> None:
        self.machine, self.uart, self.timeout, self.binary = machine, uart, timeout, binary
        self.cursor: int | None = None  # first unconsumed complete line (None: not attached)
        self.byte_cursor = 0  # binary mode: first unconsumed byte of console.received
        self.partial_line = -1  # index the unfinished line will have, when it was consumed
        self.partial_used = 0  # characters of that line already consumed
        self.report: list[str] = []

    @property
    def console(self) -> Console:
        board = self.machine.board
        if board is None or board.console is None:
            raise KeywordError(f"machine {self.machine.name!r} is not running")
        console = board.console
        if self.cursor is None:
            self.cursor = 0  # attached at the board's start: everything it printed
        return console

    def find_bytes(self, console: Console, pattern: str, regex: bool, at_start: bool) \
            -> tuple[bytes, list[bytes], float] | None:
        """Renode's binary-mode CheckUnfinishedLine: every byte is one unfinished line (no
        line ends, NULs kept); a match consumes up to its end. Latin-1 maps byte to char."""
        text = bytes(console.received[self.byte_cursor:]).decode("latin-1")
        if regex:
            m = re.compile(pattern, re.DOTALL).search(text)
            span = (m.start(), m.end()) if m else None
            groups = [(g or "").encode("latin-1") for g in m.groups()] if m else []
        else:
            needle = bytes.fromhex("".join(pattern.split())).decode("latin-1")
            start = text.find(needle)
            span = (start, start + len(needle)) if start != -1 else None
            groups = []
        if span is None or (at_start and span[0] != 0):
            return None
        self.byte_cursor += span[1]
        self.report.append(f"(Bytes >>{pattern}<< event: success)")
        return text[span[0]:span[1]].encode("latin-1"), groups, \
            (time.monotonic() - console.started) * 1000

    def _content(self, console: Console, index: int) -> str:
        line = console.lines[index]
        return line[self.partial_used:] if index == self.partial_line else line

    def _unfinished(self, console: Console) -> str:
        text = console.partial
        if self.partial_line == len(console.lines):
            return text[self.partial_used:]
        return text

    def find(self, console: Console, pattern: str, regex: bool, unfinished: bool,
             next_line: bool, as_typed: bool = False) -> tuple[str, list[str], float] | None:
        """Renode's CheckFinishedLines then CheckUnfinishedLine; consumes on a match.
        `as_typed`: match as Renode does output that arrives after the wait began (one
        character at a time): the line is consumed up to the end of the match, and the rest
        of it stays for the next wait."""
        assert self.cursor is not None
        compiled = re.compile(pattern if regex else re.escape(pattern))

        def match(text: str) -> re.Match[str] | None:
            return compiled.search(text)

        def groups(m: re.Match[str]) -> list[str]:
            return [g or "" for g in m.groups()] if regex else []

        last = min(len(console.lines), self.cursor + 1) if next_line else len(console.lines)
        for index in range(self.cursor, last):
            content = self._content(console, index)
            m = match(content)
            if m is None:
                continue
            self._consumed(console.lines[self.cursor:index], pattern)
            stamp = (console.times[index] - console.started) * 1000
            if as_typed:  # the match fired before the newline arrived
                self.cursor = index
                self.partial_used = (len(console.lines[index]) - len(content)) + m.end()
                self.partial_line = index
                return content[:m.end()], groups(m), stamp
            self.cursor = index + 1
            return content, groups(m), stamp
        if unfinished:
            content = self._unfinished(console)
            m = match(content)
            if m is not None:
                self._consumed(console.lines[self.cursor:], pattern, content)
                self.cursor = len(console.lines)
                self.partial_line = len(console.lines)
                used = len(console.partial) - len(content)
                self.partial_used = used + (m.end() if as_typed else len(content))
                return (content[:m.end()] if as_typed else content), groups(m), \
                    (time.monotonic() - console.started) * 1000
        return None

    def next_line(self, console: Console) -> tuple[str, float] | None:
        assert self.cursor is not None
        if self.cursor >= len(console.lines):
            return None
        index = self.cursor
        self.cursor += 1
        content = self._content(console, index)
        self._consumed([content], "next line")
        return content, (console.times[index] - console.started) * 1000

    def _consumed(self, lines: list[str], event: str, unfinished: str | None = None) -> None:
        self.report += lines
        if unfinished is not None:
            self.report.append(f"{unfinished} [[no newline]]")
        self.report.append(f"(Line containing >>{event}<< event: success)")

    def failure_report(self, console: Console, event: str) -> str:
        assert self.cursor is not None
        pending = [self._content(console, i) for i in range(self.cursor, len(console.lines))]
        return "\n".join([*self.report, *pending, f"{self._unfinished(console)} [[no newline]]",
                          f"({event} event: failure)"])


class LogTester:
    """Renode's LogTester over the emulators' logs: every machine's emulator.log, plus the
    lifecycle lines Renode logs itself ("<machine>: Machine started." and the like)."""

    def __init__(self, timeout: float, max_entries: int = 1_000_000) -> None:
        self.timeout = timeout
        self.max_entries = max(1, max_entries)
        self.dropped = False  # Renode's HasDroppedMessages
        self.offsets: dict[Path, int] = {}
        self.messages: list[str] = []

    def add(self, lines: list[str]) -> None:
        for line in lines:
            if len(self.messages) >= self.max_entries:
                self.dropped = True
                del self.messages[: max(1, self.max_entries // 10)]
            self.messages.append(line)

    def read(self, paths: list[Path]) -> None:
        for path in paths:
            if not path.exists():
                continue
            with path.open(errors="replace") as fp:
                fp.seek(self.offsets.get(path, 0))
                text = fp.read()
                complete = text[:text.rfind("\n") + 1]
                self.offsets[path] = self.offsets.get(path, 0) + len(complete.encode())
            self.add(complete.splitlines())

    def find(self, pattern: str, regex: bool, keep: bool) -> str | None:
        for i, line in enumerate(self.messages):
            if re.search(pattern, line) if regex else pattern in line:
                if not keep:
                    del self.messages[: i + 1]
                return line
        return None


class EmulatorKeywords(DynamicCore):
    """Renode's UART, log, CPU and monitor keywords for boards emulated by QEMU. One
    instance per suite (its own machines and testers), so suites run in parallel under
    pabot."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self.savepoints: dict[str, list[tuple[str, tuple[Any, ...], dict[str, Any]]]] = {}
        self._clear()
        DynamicCore.__init__(self, [])

    def _clear(self) -> None:
        self.machines: dict[str, Machine] = {}
        self.current: Machine | None = None
        self.testers: dict[int, Tester] = {}
        self.tester_uarts: list[tuple[str, str]] = []  # (machine, uart) -> id by position
        self.default_tester: Tester | None = None
        self.global_timeout = DEFAULT_UART_TIMEOUT
        self.default_pause = False
        self.default_match_next_line = False
        self.variables: dict[str, str] = {}
        self.macros: dict[str, list[str]] = {}
        self.log_tester: LogTester | None = None
        self.log_default_pause = False
        self.events: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []  # since reset
        self.lifecycle_log: list[str] = []

    def run_keyword(self, name: str, args: Any, kwargs: Any = None) -> Any:
        """Every keyword call since Reset Emulation is remembered: Requires re-executes them
        (Renode's recorder does the same)."""
        if name not in NOT_RECORDED:
            self.events.append((name, tuple(args), dict(kwargs or {})))
        return super().run_keyword(name, args, kwargs)

    # --- emulation lifecycle ------------------------------------------------------------

    @keyword
    def reset_emulation(self) -> None:
        """Stop every machine and forget machines, testers and the log tester."""
        for m in self.machines.values():
            if m.board:
                m.board.stop()
            if m.lab:
                m.lab.release()
        self._clear()

    @keyword
    def start_emulation(self) -> None:
        """Start every machine created so far (boots them, or resumes them)."""
        for m in self.machines.values():
            if m.board is None:
                self._boot(m)
            elif not m.started_running:
                m.board.resume()
            if not m.started_running:
                m.started_running = True
                self._lifecycle(m, "Machine started.")

    def _ensure_started(self) -> None:
        """Renode's waits start the emulation when it is not running."""
        if any(m.board is None or not m.started_running for m in self.machines.values()):
            self.start_emulation()

    def _boot(self, m: Machine) -> None:
        if m.spec is None:
            raise KeywordError(f"machine {m.name!r} has no platform: `machine "
                               "LoadPlatformDescription @<board>.repl`")
        if m.elf is None:
            raise KeywordError(f"machine {m.name!r} has no software: `sysbus LoadELF @path`")
        workdir = self._workdir() / m.name
        lab = self._lab()
        if lab:
            self._boot_lab(m, lab, workdir)
            return
        board = make_board(m.spec.name, "qemu", m.elf, workdir, loads=m.loads,
                           ports=m.ports())
        assert isinstance(board, QemuBoard)
        m.board = board
        board.start()
        logger.info(f"{m.name}: QEMU {m.spec.qemu_machine} with {m.elf.name}; console log "
                    f"{workdir / 'console.log'}")

    def _lab(self) -> LabConfig | None:
        """${LAB}: a lab file; its boards stand in for the machines (docs/LAB.md)."""
        path = BuiltIn().get_variable_value("${LAB}", "") if _robot_running() else ""
        return load_lab(Path(path)) if path else None

    def _boot_lab(self, m: Machine, lab: LabConfig, workdir: Path) -> None:
        """The machine on a lab board of its type (${LAB_BOARD}: a name or label): held
        for the suite's test, flashed with the ELF and the blob loaded at the provisioning
        address, its link UART served on the script's socket terminal port."""
        assert m.spec and m.elf
        wanted = BuiltIn().get_variable_value("${LAB_BOARD}", "")
        names = [n for n in select_boards(lab, [wanted] if wanted else None)
                 if lab.boards[n].type == m.spec.name]
        if not names:
            raise KeywordError(f"the lab has no {m.spec.name} board"
                               + (f" named or labelled {wanted}" if wanted else ""))
        blob = next((p for p, a in m.loads if a == m.spec.provision_addr), None)
        if any(a != m.spec.provision_addr for _, a in m.loads):
            raise KeywordError("a lab board is flashed with the ELF and the provisioning "
                               "blob only: `sysbus LoadBinary` elsewhere is not supported")
        name = names[0]
        lock = BoardLock(name, lab.lock_dir)
        wait = float(BuiltIn().get_variable_value("${LAB_WAIT}", 600))
        try:
            lock.acquire(BuiltIn().get_variable_value("${TEST NAME}", "robot"), wait,
                         on_wait=logger.console)
        except BoardBusy as exc:
            BuiltIn().skip(str(exc))
        m.lab = LabMachine(lock)
        board = LabBoard(name, lab.boards[name], m.elf, workdir, blob=blob)
        m.board = board
        board.start(run=False)  # flashed and held: the link is served before it boots
        link_port = m.ports().get("link")
        if link_port is not None:
            m.lab.link = UartServer(link_port, lab.boards[name].link)
            # boot once the bridge is attached (it retries every 0.2 s), or its first
            # handshake goes nowhere and waits out the firmware's timeout
            if not m.lab.link.connected.wait(LINK_ATTACH_WAIT):
                logger.warn(f"{m.name}: nothing attached to the link on port {link_port} "
                            f"within {LINK_ATTACH_WAIT:g} s; booting anyway")
        board.resume()
        logger.info(f"{m.name}: lab board {name} ({m.spec.name}) flashed with {m.elf.name}; "
                    f"console log {workdir / 'console.log'}")

    def _lifecycle(self, m: Machine, event: str) -> None:
        self.lifecycle_log.append(f"{m.name}: {event}")

    def _pause_all(self) -> None:
        for m in self.machines.values():
            if m.board and m.started_running:
                m.board.pause()
                m.started_running = False
                self._lifecycle(m, "Machine paused.")

    def _workdir(self) -> Path:
        try:
            out = BuiltIn().get_variable_value("${OUTPUT DIR}", ".")
            suite = BuiltIn().get_variable_value("${SUITE NAME}", "suite")
        except RobotNotRunningError:  # used as a plain library (unit tests)
            return Path(tempfile.gettempdir()) / "wasmbed-robot"
        return Path(out) / "emulation" / re.sub(r"[^\w.-]+", "_", suite)

    # --- monitor ------------------------------------------------------------------------

    @keyword
    def execute_command(self, command: str, machine: str | None = None) -> str:
        """Run a monitor command. Supported on QEMU: `mach create ["name"]`, `mach set
        "name"`, `mach clear`, `machine LoadPlatformDescription @<board>.repl` (our catalog
        boards), `sysbus LoadELF @file`, `sysbus LoadBinary @file 0xADDR`, `emulation
        CreateServerSocketTerminal PORT "name" false`, `connector Connect sysbus.<uart>
        name`, `machine Reset`, `macro NAME` blocks and `runMacro $NAME`, `start`, `pause`,
        `quit`, `sysbus.cpu PC`, and `$var = value` / `$var ?= value`."""
        if machine is not None:
            self.current = self._machine(machine)
        line = command.strip()
        if not line or line.startswith("#"):
            return ""
        m = re.fullmatch(r"\$(\w+)\s*(\?)?=\s*(.*)", line)
        if m:
            name, default, value = m.groups()
            if not (default and name in self.variables):
                self.variables[name] = self._value(value)
            return ""
        words = [self._value(w) for w in shlex.split(line)]
        try:
            return self._dispatch(words, line)
        except NotSupportedOnQemu:
            raise
        except KeywordError as exc:
            raise KeywordError(f"There was an error when executing command '{line}': "
                               f"{exc}") from None

    def _dispatch(self, words: list[str], line: str) -> str:
        match words:
            case ["mach", "create", *name]:
                mname = name[0] if name else f"machine-{len(self.machines)}"
                if mname in self.machines:
                    raise KeywordError(f"machine {mname!r} already exists")
                self.current = self.machines[mname] = Machine(mname)
            case ["mach", "set", name]:
                self.current = self._machine(name)
            case ["mach", "clear"]:
                self.current = None
            case ["machine", "LoadPlatformDescription", path]:
                self._need_machine(line).spec = self._platform(path)
            case ["sysbus", "LoadELF", path, *_]:
                self._need_machine(line).elf = self._file(path)
            case ["sysbus", "LoadBinary", path, addr]:
                loads = self._need_machine(line).loads
                new = (self._file(path), int(addr, 0))
                if new not in loads:
                    loads.append(new)
            case ["emulation", "CreateServerSocketTerminal", port, name, *_]:
                self._need_machine(line).terminals[name] = int(port)
            case ["connector", "Connect", uart, name]:
                self._need_machine(line).wiring[uart] = name
            case ["runMacro", name]:
                for body_line in self.macros.get(name.lstrip("$"), []):
                    self.execute_command(body_line)
            case ["machine", "Reset"]:
                self._running(line).reset()
            case ["sysbus.cpu", "PC"]:
                return f"0x{self._running(line).registers()['R15']:x}"
            case ["start"]:
                self.start_emulation()
            case ["pause"]:
                self._pause_all()
            case ["quit"]:
                self.reset_emulation()
            case _:
                raise NotSupportedOnQemu(
                    f"Could not execute command '{line}': not supported on QEMU (supported: "
                    "mach create/set/clear, machine LoadPlatformDescription, sysbus LoadELF/"
                    "LoadBinary, emulation CreateServerSocketTerminal, connector Connect, "
                    "macro/runMacro, machine Reset, sysbus.cpu PC, start, pause, quit)")
        return ""

    @keyword
    def execute_script(self, path: str) -> str:
        """Run a .resc script line by line with `Execute Command` (so the same subset);
        `$ORIGIN` is the script's directory, `macro NAME` ... `\"\"\"` blocks are kept for
        `runMacro` and `machine Reset`."""
        script = Path(self._value(path).lstrip("@"))
        if not script.is_file():
            raise KeywordError(f"Could not execute script: {script} does not exist")
        self.variables["ORIGIN"] = str(script.resolve().parent)
        lines = iter(enumerate(script.read_text().splitlines(), 1))
        for number, line in lines:
            try:
                macro = re.fullmatch(r"\s*macro\s+(\w+)\s*", line)
                if macro:
                    self.macros[macro.group(1)] = self._macro_body(lines)
                    continue
                self.execute_command(line)
            except AssertionError as exc:
                raise KeywordError(f"Could not execute script: {script}:{number}: {exc}") \
                    from None
        return ""

    @staticmethod
    def _macro_body(lines: Any) -> list[str]:
        body: list[str] = []
        opened = False
        for _, line in lines:
            if line.strip() == '"""':
                if opened:
                    return body
                opened = True
                continue
            body.append(line)
        raise KeywordError("a macro without its closing \"\"\"")

    def _value(self, word: str) -> str:
        word = re.sub(r"\$(\w+)", lambda m: self.variables.get(m.group(1), m.group(0)), word)
        return word.strip('"')

    def _file(self, word: str) -> Path:
        path = Path(word.lstrip("@"))
        if not path.is_file():
            raise KeywordError(f"File does not exist: {path}")
        return path.resolve()

    @staticmethod
    def _platform(word: str) -> BoardSpec:
        path = word.lstrip("@")
        for spec in CATALOG.values():
            if path == spec.renode_platform or path.endswith(f"/{spec.name}.repl"):
                if spec.qemu_machine is None:
                    raise NotSupportedOnQemu(f"{spec.name} has no QEMU stand-in; install "
                                             f"Renode to run {spec.name}")
                return spec
        raise NotSupportedOnQemu(
            f"platform {path} is not supported on QEMU; our boards: "
            + ", ".join(f"renode/{n}.repl" for n in renode_boards()))

    def _machine(self, name: str) -> Machine:
        try:
            return self.machines[name]
        except KeyError:
            raise KeywordError(f"Machine with name {name} not found. Available machines: "
                               f"[{', '.join(self.machines)}]") from None

    def _single_machine(self, name: str | None, what: str) -> Machine:
        if name is not None:
            return self._machine(name)
        if not self.machines:
            raise KeywordError(f"There is no machine in the emulation. Could not {what}")
        if len(self.machines) > 1:
            raise KeywordError("No machine name provided. Don't know which one to choose. "
                               f"Available machines: [{', '.join(self.machines)}]")
        return next(iter(self.machines.values()))

    def _need_machine(self, line: str) -> Machine:
        if self.current is None:
            raise KeywordError(f"'{line}' needs a machine: `mach create` first")
        return self.current

    def _running(self, line: str) -> QemuBoard | LabBoard:
        board = self._need_machine(line).board
        if board is None:
            raise KeywordError(f"'{line}': the machine is not started")
        return board

    # --- UART testers -------------------------------------------------------------------

    @keyword
    def set_default_uart_timeout(self, timeout: float) -> None:
        self.global_timeout = float(timeout)

    @keyword
    def set_default_tester(self, id: int | None) -> None:
        """Make tester `id` the default; none (null/None) clears the default."""
        if id in (None, "", "None", "null"):
            self.default_tester = None
            return
        tester = self.testers.get(int(id))  # type: ignore[arg-type]
        if tester is None:
            raise KeywordError(f"Tester #{id} was not found. Create a tester before setting "
                               "it as default")
        self.default_tester = tester

    @keyword
    def create_terminal_tester(self, uart: str, timeout: float | None = None,
                               machine: str | None = None, endLineOption: str | None = None,
                               defaultPauseEmulation: bool | None = None,
                               defaultMatchNextLine: bool | None = None,
                               binaryMode: bool = False) -> int:
        """A tester on a machine's console UART (e.g. `sysbus.usart1`); returns its id. The
        pause and match-next-line defaults apply to every tester, as in Renode. `binaryMode`
        (Renode after 1.15.3; pass it by name) makes it a tester for Wait For Bytes On
        Uart."""
        self.default_pause = bool(defaultPauseEmulation)
        self.default_match_next_line = bool(defaultMatchNextLine)
        m = self._single_machine(machine, f"create tester for peripheral: {uart}")
        if m.spec is None:
            raise KeywordError(f"Peripheral for machine '{machine}' not found or of wrong "
                               f"type: '{uart}'. Load the platform first")
        if uart != m.spec.console_uart:
            raise NotSupportedOnQemu(
                f"Terminal tester on {uart} is not supported on QEMU: on {m.spec.name} "
                f"{m.spec.link_uart} carries the TLS link; the console is {m.spec.console_uart}")
        if endLineOption not in (None, "TreatLineFeedAsEndLine"):
            raise NotSupportedOnQemu(f"endLineOption {endLineOption}: lines end at LF here")
        key = (m.name, uart)
        if key in self.tester_uarts:
            return self.tester_uarts.index(key)
        self.tester_uarts.append(key)
        tid = len(self.tester_uarts) - 1
        tester = Tester(m, uart, float(timeout) if timeout is not None else self.global_timeout,
                        bool(binaryMode))
        if m.board and m.board.console:  # attached now: it sees what comes from here on
            tester.cursor = len(m.board.console.lines)
            tester.byte_cursor = len(m.board.console.received)
        self.testers[tid] = tester
        return tid

    def _tester(self, tester_id: int | None) -> Tester:
        if tester_id is None or tester_id in ("", "None"):
            if self.default_tester is not None:
                return self.default_tester
            if len(self.testers) != 1:
                raise KeywordError("There are no testers available." if not self.testers else
                                   "There is more than one tester available - please specify "
                                   "ID of the desired tester.")
            return next(iter(self.testers.values()))
        tester = self.testers.get(int(tester_id))
        if tester is None:
            raise KeywordError(f"Tester for given ID={tester_id} was not found. Did you forget "
                               "to create the tester?")
        return tester

    @staticmethod
    def _result(line: str, groups: list[str], timestamp: float) -> DotDict:
        safe = "".join(c for c in line if 32 <= ord(c) <= 126 or c == "\n")
        return DotDict(line=safe, groups=groups, timestamp=timestamp)

    @staticmethod
    def _mode(t: Tester, binary: bool) -> None:
        if t.binary != binary:
            raise KeywordError(
                f"Attempt to wait for {'bytes' if binary else 'text'} on a tester configured "
                f"in {'binary' if t.binary else 'text'} mode. Please set "
                f"binaryMode={not t.binary} when creating the tester.")

    def _wait(self, t: Tester, pattern: str, timeout: float | None, regex: bool,
              unfinished: bool, pause: bool | None, next_line: bool | None,
              as_typed: bool = False) -> DotDict:
        self._mode(t, False)
        self._ensure_started()
        limit = float(timeout) if timeout is not None else t.timeout
        console = t.console
        deadline = time.monotonic() + limit
        event = f"Line containing{' regex' if regex else ''} >>{pattern}<<"
        with console.cond:
            while True:
                found = t.find(console, pattern, regex, unfinished,
                               next_line if next_line is not None
                               else self.default_match_next_line, as_typed)
                if found is not None:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or console.closed:
                    raise KeywordError("Terminal tester failed!\n\nFull report:\n"
                                       + t.failure_report(console, event))
                console.cond.wait(remaining)
        if pause if pause is not None else self.default_pause:
            self._pause_all()
        result = self._result(*found)
        logger.info(f"matched {event}: {result.line!r}")  # what passed, in log.html
        return result

    @keyword
    def wait_for_bytes_on_uart(self, content: str, timeout: float | None = None,
                               testerId: int | None = None, treatAsRegex: bool = False,
                               pauseEmulation: bool | None = None,
                               matchStart: bool | None = False) -> DotDict:
        """Renode after 1.15.3, on a binaryMode tester: wait for `content`, hex bytes
        ("de ad be ef") or a regex over the bytes as Latin-1; returns {content, groups,
        timestamp} with bytes. `matchStart`: only at the first unconsumed byte."""
        t = self._tester(testerId)
        self._mode(t, True)
        self._ensure_started()
        limit = float(timeout) if timeout is not None else t.timeout
        console = t.console
        deadline = time.monotonic() + limit
        with console.cond:
            while (found := t.find_bytes(console, content, treatAsRegex,
                                         bool(matchStart))) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or console.closed:
                    pending = bytes(console.received[t.byte_cursor:])
                    raise KeywordError("Terminal tester failed!\n\nFull report:\n"
                                       + "\n".join([*t.report, pending.hex(" "),
                                                    f"(Bytes >>{content}<< event: failure)"]))
                console.cond.wait(remaining)
        if pauseEmulation if pauseEmulation is not None else self.default_pause:
            self._pause_all()
        data, groups, stamp = found
        return DotDict(content=data, groups=groups, timestamp=stamp)

    @keyword
    def wait_for_line_on_uart(self, content: str, timeout: float | None = None,
                              testerId: int | None = None, treatAsRegex: bool = False,
                              includeUnfinishedLine: bool = False,
                              pauseEmulation: bool | None = None,
                              matchNextLine: bool | None = None) -> DotDict:
        """Wait for a line containing `content` (a regex with treatAsRegex) after the last
        match; returns {line, groups, timestamp}."""
        return self._wait(self._tester(testerId), content, timeout, treatAsRegex,
                          includeUnfinishedLine, pauseEmulation, matchNextLine)

    @keyword
    def wait_for_prompt_on_uart(self, prompt: str, testerId: int | None = None,
                                timeout: float | None = None, treatAsRegex: bool = False,
                                pauseEmulation: bool | None = None) -> DotDict:
        """Wait for `prompt`, also on a line not yet ended (a shell prompt)."""
        return self._wait(self._tester(testerId), prompt, timeout, treatAsRegex, True,
                          pauseEmulation, None)

    @keyword
    def wait_for_next_line_on_uart(self, timeout: float | None = None,
                                   testerId: int | None = None,
                                   pauseEmulation: bool | None = None) -> DotDict:
        t = self._tester(testerId)
        self._mode(t, False)
        self._ensure_started()
        console = t.console
        deadline = time.monotonic() + (float(timeout) if timeout is not None else t.timeout)
        with console.cond:
            while (found := t.next_line(console)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or console.closed:
                    raise KeywordError("Terminal tester failed!\n\nFull report:\n"
                                       + t.failure_report(console, "Next line"))
                console.cond.wait(remaining)
        if pauseEmulation if pauseEmulation is not None else self.default_pause:
            self._pause_all()
        return self._result(found[0], [], found[1])

    @keyword
    def should_not_be_on_uart(self, content: str, timeout: float | None = None,
                              testerId: int | None = None, treatAsRegex: bool = False,
                              includeUnfinishedLine: bool = False) -> None:
        """Fail if `content` appears within `timeout` (consumes only if it does)."""
        t = self._tester(testerId)
        self._mode(t, False)
        try:
            found = self._wait(t, content, timeout, treatAsRegex, includeUnfinishedLine,
                               False, None)
        except KeywordError:
            return
        raise KeywordError(f"Terminal tester failed!\n\nUnexpected entry has been found on "
                           f"UART#:\n{found.line}")

    @keyword
    def test_if_uart_is_idle(self, timeout: float, testerId: int | None = None,
                             pauseEmulation: bool | None = None) -> None:
        """Pass when the UART prints nothing for `timeout` seconds."""
        t = self._tester(testerId)
        self._ensure_started()
        console = t.console
        deadline = time.monotonic() + float(timeout)
        with console.cond:
            seen = (len(console.lines), console.partial)
            while (remaining := deadline - time.monotonic()) > 0:
                console.cond.wait(remaining)
                if (len(console.lines), console.partial) != seen:
                    raise KeywordError("Terminal tester failed!\n\nFull report:\n"
                                       + t.failure_report(console, "Terminal is idle"))
        if pauseEmulation if pauseEmulation is not None else self.default_pause:
            self._pause_all()

    @keyword
    def write_to_uart(self, content: str, testerId: int | None = None) -> DotDict:
        self._tester(testerId).console.write(content.encode("latin-1"))
        return self._result("", [], 0.0)

    @keyword
    def write_char_on_uart(self, c: str, testerId: int | None = None) -> DotDict:
        """Send one character."""
        if len(c) != 1:
            raise KeywordError(f"Write Char On Uart takes one character, got {c!r}")
        return self.write_to_uart(c, testerId)

    @keyword
    def send_key_to_uart(self, c: int, testerId: int | None = None) -> DotDict:
        """Send one byte given as a number (e.g. 0x1B for Escape)."""
        return self.write_to_uart(chr(int(str(c), 0) & 0xFF), testerId)

    @keyword
    def write_line_to_uart(self, content: str = "", testerId: int | None = None,
                           waitForEcho: bool = True, pauseEmulation: bool | None = None) \
            -> DotDict:
        """Send `content` and a carriage return, then wait until it is echoed (Renode waits
        for the echo of empty content too: the next line matches)."""
        t = self._tester(testerId)
        t.console.write(content.encode("latin-1") + b"\r")
        if waitForEcho:  # the echo arrives after the wait began: matched as typed
            self._wait(t, content, None, False, True, pauseEmulation, False, as_typed=True)
        return self._result("", [], 0.0)

    @keyword
    def get_terminal_tester_report(self, testerId: int | None = None) -> str:
        """What the tester has seen and every event, as Renode's report."""
        t = self._tester(testerId)
        console = t.console
        with console.cond:
            return t.failure_report(console, "Report")

    @keyword
    def clear_terminal_tester_report(self, testerId: int | None = None) -> None:
        """Forget the lines seen so far and the report."""
        t = self._tester(testerId)
        console = t.console
        with console.cond:
            t.cursor = len(console.lines)
            t.report.clear()

    # --- log tester ---------------------------------------------------------------------

    @keyword
    def create_log_tester(self, timeout: float, defaultPauseEmulation: bool | None = None,
                          maxLogEntries: int = 1_000_000) -> None:
        """Watch the emulators' logs (QEMU: guest errors and unimplemented-device accesses,
        plus the machine lifecycle lines Renode logs). `maxLogEntries` (Renode after 1.15.3):
        past it the oldest tenth is dropped, and Should Not Be In Log fails from then on."""
        self.log_default_pause = bool(defaultPauseEmulation)
        self.log_tester = LogTester(float(timeout), int(maxLogEntries))
        self.lifecycle_log.clear()

    def _logs(self) -> LogTester:
        if self.log_tester is None:
            raise KeywordError("Log tester is not available. Create it with the `Create Log "
                               "Tester` keyword")
        return self.log_tester

    def _read_logs(self, lt: LogTester) -> None:
        lt.add(self.lifecycle_log)
        self.lifecycle_log.clear()
        lt.read([m.board.log_path for m in self.machines.values() if m.board])

    def _wait_log(self, pattern: str, timeout: float | None, regex: bool, keep: bool,
                  pause: bool | None, start: bool = True) -> str | None:
        lt = self._logs()
        if start:
            self._ensure_started()
        deadline = time.monotonic() + (float(timeout) if timeout is not None else lt.timeout)
        while True:
            self._read_logs(lt)
            found = lt.find(pattern, regex, keep)
            if found is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        if pause if pause is not None else self.log_default_pause:
            self._pause_all()
        return found

    @keyword
    def wait_for_log_entry(self, pattern: str, timeout: float | None = None, keep: bool = False,
                           treatAsRegex: bool = False, pauseEmulation: bool | None = None,
                           level: str | None = None, startEmulation: bool = True) -> str:
        """Wait for a log line containing `pattern`. QEMU's log has no levels: `level` is
        accepted and not applied. `startEmulation=false` (Renode after 1.15.3) waits
        without starting a machine that is not running."""
        found = self._wait_log(pattern, timeout, treatAsRegex, keep, pauseEmulation,
                               bool(startEmulation))
        if found is None:
            lt = self._logs()
            last = lt.messages[-20:]
            dropped = (f"Warning: Buffered log messages exceeded configured max "
                       f"{lt.max_entries}, some messages were dropped \n" if lt.dropped else "")
            raise KeywordError(
                f'Expected pattern "{pattern}" did not appear in the log\n {dropped}Last '
                f"{len(last)} buffered log messages are: \n " + "\n ".join(last))
        return found

    @keyword
    def should_not_be_in_log(self, pattern: str, timeout: float | None = None,
                             treatAsRegex: bool = False, pauseEmulation: bool | None = None,
                             level: str | None = None) -> None:
        found = self._wait_log(pattern, timeout, treatAsRegex, True, pauseEmulation)
        lt = self._logs()
        if lt.dropped:
            raise KeywordError(f"Number of buffered log messages exceeded configured max "
                               f"{lt.max_entries} and some messages were dropped\nEither "
                               "increase maxLogEntries in CreateLogTester, or raise the logLevel")
        if found is not None:
            raise KeywordError(f"Unexpected line detected in the log: {found}")

    @keyword
    def clear_log_tester_history(self) -> None:
        lt = self._logs()
        self._read_logs(lt)
        lt.messages.clear()
        lt.dropped = False

    # --- CPU ----------------------------------------------------------------------------

    def _registers(self, machine: str | None, cpuId: int | None) -> dict[str, int]:
        if cpuId not in (None, 0, "0"):
            raise KeywordError(f"CPU {cpuId} not found: our boards have one CPU (0)")
        m = self._single_machine(machine, "read the CPU")
        if m.board is None:
            raise KeywordError(f"machine {m.name!r} is not started")
        return m.board.registers()

    @keyword
    def pc_should_be_equal(self, value: int, machine: str | None = None,
                           cpuId: int | None = None) -> None:
        """The CPU's program counter (QEMU: R15 over QMP)."""
        actual = self._registers(machine, cpuId)["R15"]
        if actual != int(str(value), 0):
            raise KeywordError(f"PC value assertion failed, actual: 0x{actual:x}, expected: "
                               f"0x{int(str(value), 0):x}")

    @keyword
    def register_should_be_equal(self, register: int, value: int, machine: str | None = None,
                                 cpuId: int | None = None) -> None:
        """Core register `register` (0-15: R0..R15)."""
        regs = self._registers(machine, cpuId)
        index = int(str(register), 0)
        actual = regs.get(f"R{index:02d}")
        if actual is None:
            raise KeywordError(f"Register {register} not found")
        if actual != int(str(value), 0):
            raise KeywordError(f"Register {register} value assertion failed, actual: "
                               f"0x{actual:x}, expected: 0x{int(str(value), 0):x}")

    # --- files --------------------------------------------------------------------------

    @keyword
    def allocate_temporary_file(self) -> str:
        """A fresh temporary file's path (removed with the suite's output dir by the OS)."""
        directory = self._workdir() / "tmp"
        directory.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=directory)[1]

    @keyword
    def allocate_temporary_directory(self, dirName: str) -> str:
        """Renode after 1.15.3: the directory `dirName` in the suite's temporary folder,
        created when missing (an existing one is returned as it is)."""
        base = (self._workdir() / "tmp").resolve()
        path = (base / dirName).resolve()
        if not path.is_relative_to(base):
            raise KeywordError(f"Can't create temporary directory: {path} (outside {base})")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KeywordError(f"Can't create temporary directory: {path} ({exc})") from None
        return str(path)

    @keyword
    def download_file(self, uri: str) -> str:
        """Fetch `uri` (file://, http://, https://) to a temporary file; its path."""
        if not re.match(r"^[a-zA-Z][\w+.-]*://", uri):
            raise KeywordError(f"Wrong URI format: {uri}")
        target = Path(self.allocate_temporary_file())
        try:
            with urllib.request.urlopen(uri, timeout=30) as resp, target.open("wb") as fp:
                shutil.copyfileobj(resp, fp)
        except OSError as exc:
            raise KeywordError(f"Couldn't download file from: {uri} ({exc})") from None
        return str(target)

    # --- snapshots ----------------------------------------------------------------------

    @keyword
    def provides(self, state: str, type: str = "Serialization") -> None:
        """Name the emulation's state `state`, for a later test's Requires. QEMU's STM32
        models keep no migratable UART state, so a snapshot cannot be reloaded there; the
        state is reached again by re-executing the keywords that led to it since Reset
        Emulation (Renode's Reexecution provider; for the default Serialization, the
        same)."""
        if str(type).rsplit(".", 1)[-1] not in ("Serialization", "Reexecution"):
            raise KeywordError(f"Provider type {type} is not supported")
        self.savepoints[state] = list(self.events)

    @keyword
    def requires(self, state: str) -> None:
        """Reset the emulation and bring it back to what Provides named `state`."""
        events = self.savepoints.get(state)
        if events is None:
            raise KeywordError(f"Required state {state} not found.")
        self.reset_emulation()
        for name, args, kwargs in events:
            self.run_keyword(name, args, kwargs)

    # --- for the platform library -------------------------------------------------------

    def board(self, machine: str | None = None) -> QemuBoard | LabBoard:
        """The running board of `machine` (default: the current one)."""
        m = self._machine(machine) if machine else self._need_machine("board")
        if m.board is None:
            raise KeywordError(f"machine {m.name!r} is not started")
        return m.board
