"""Renode's Robot keywords over our QEMU backend, so a suite written for `renode-test` runs
here unchanged (and the other way round).

Keyword and argument names and defaults are Renode's (robot/libraries/renode_keywords.json
is the reference; a test checks we match it). Semantics follow Renode's terminal tester:
waits consume the output they scan, a failure says what was awaited and shows the lines
seen. Differences a user may meet: timeouts are wall-clock seconds (Renode's are virtual
time); `Execute Command` understands only the monitor commands that describe our boards
(anything else fails with "not supported on QEMU"); a terminal tester exists only for a
board's console UART (the link UART carries TLS to the gateway).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn
from robot.utils import DotDict
from robotlibcore import DynamicCore, keyword

from wasmbed.emulation import CATALOG, BoardSpec, QemuBoard
from wasmbed.emulation.console import Console
from wasmbed.waiting import Seen, WaitTimeout, wait_for

REPL_DIR = "platforms/boards/"
DEFAULT_UART_TIMEOUT = 8.0  # Renode's global default


class NotSupportedOnQemu(AssertionError):
    pass


@dataclass
class Machine:
    name: str
    spec: BoardSpec | None = None
    elf: Path | None = None
    loads: list[tuple[Path, int]] = field(default_factory=list)
    terminals: dict[str, int] = field(default_factory=dict)  # terminal name -> TCP port
    wiring: dict[str, str] = field(default_factory=dict)  # uart -> terminal name
    board: QemuBoard | None = None

    def ports(self) -> dict[str, int]:
        """QEMU's chardev ports, from the script's terminals and connector wiring."""
        assert self.spec
        roles = {self.spec.console_uart: "console", self.spec.link_uart: "link"}
        return {roles[uart]: self.terminals[term] for uart, term in self.wiring.items()
                if uart in roles and term in self.terminals}


@dataclass
class Tester:
    machine: Machine
    uart: str
    timeout: float
    pause_emulation: bool
    wait_for_echo: bool
    match_next_line: bool

    @property
    def console(self) -> Console:
        board = self.machine.board
        if board is None or board.console is None:
            raise AssertionError(f"machine {self.machine.name!r} is not running: call Start "
                                 "Emulation (or `start`) first")
        return board.console


class LogTester:
    """Lines of every machine's emulator log (QEMU: guest errors, unimplemented devices)."""

    def __init__(self, timeout: float, pause: bool) -> None:
        self.timeout, self.pause = timeout, pause
        self.offsets: dict[Path, int] = {}
        self.buffer: list[str] = []

    def read(self, paths: list[Path]) -> None:
        for path in paths:
            if not path.exists():
                continue
            with path.open(errors="replace") as fp:
                fp.seek(self.offsets.get(path, 0))
                text = fp.read()
                complete = text[:text.rfind("\n") + 1]
                self.offsets[path] = self.offsets.get(path, 0) + len(complete.encode())
            self.buffer += complete.splitlines()


class EmulatorKeywords(DynamicCore):
    """Renode's UART, log and monitor keywords for boards emulated by QEMU. One instance per
    suite (its own machines and testers), so suites run in parallel under pabot."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._clear()
        DynamicCore.__init__(self, [])

    def _clear(self) -> None:
        self.machines: dict[str, Machine] = {}
        self.current: Machine | None = None
        self.testers: list[Tester] = []
        self.default_tester: int | None = None
        self.uart_timeout = DEFAULT_UART_TIMEOUT
        self.variables: dict[str, str] = {}
        self.log_tester: LogTester | None = None

    # --- emulation lifecycle ------------------------------------------------------------

    @keyword
    def reset_emulation(self) -> None:
        """Stop every machine and forget machines, testers and the log tester."""
        for m in self.machines.values():
            if m.board:
                m.board.stop()
        self._clear()

    @keyword
    def start_emulation(self) -> None:
        """Start every machine created so far (boots them; testers attach to consoles)."""
        for m in self.machines.values():
            if m.board is None:
                self._boot(m)

    def _boot(self, m: Machine) -> None:
        if m.spec is None:
            raise AssertionError(f"machine {m.name!r} has no platform: `machine "
                                 "LoadPlatformDescription @platforms/boards/<board>.repl`")
        if m.elf is None:
            raise AssertionError(f"machine {m.name!r} has no software: `sysbus LoadELF @path`")
        workdir = self._workdir() / m.name
        m.board = QemuBoard(m.spec, m.elf, workdir, loads=m.loads, ports=m.ports())
        m.board.start()
        logger.info(f"{m.name}: QEMU {m.spec.qemu_machine} with {m.elf.name}; console log "
                    f"{workdir / 'console.log'}")

    def _workdir(self) -> Path:
        out = BuiltIn().get_variable_value("${OUTPUT DIR}", ".")
        suite = BuiltIn().get_variable_value("${SUITE NAME}", "suite")
        return Path(out) / "emulation" / re.sub(r"[^\w.-]+", "_", suite)

    # --- monitor ------------------------------------------------------------------------

    @keyword
    def execute_command(self, command: str, machine: str | None = None) -> str:
        """Run a monitor command. Supported on QEMU: `mach create ["name"]`, `mach set
        "name"`, `machine LoadPlatformDescription @platforms/boards/<board>.repl` (our
        catalog boards), `sysbus LoadELF @file`, `sysbus LoadBinary @file 0xADDR`,
        `emulation CreateServerSocketTerminal PORT "name" false`, `connector Connect
        sysbus.<uart> name`, `machine Reset`, `start`, `pause`, `quit`, and `$var = value`
        / `$var ?= value`."""
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
        return self._dispatch(words, line)

    def _dispatch(self, words: list[str], line: str) -> str:
        match words:
            case ["mach", "create", *name]:
                mname = name[0] if name else f"machine-{len(self.machines)}"
                if mname in self.machines:
                    raise AssertionError(f"machine {mname!r} already exists")
                self.current = self.machines[mname] = Machine(mname)
            case ["mach", "set", name]:
                self.current = self._machine(name)
            case ["machine", "LoadPlatformDescription", path]:
                self._need_machine(line).spec = self._platform(path)
            case ["sysbus", "LoadELF", path, *_]:
                self._need_machine(line).elf = self._file(path)
            case ["sysbus", "LoadBinary", path, addr]:
                self._need_machine(line).loads.append((self._file(path), int(addr, 0)))
            case ["emulation", "CreateServerSocketTerminal", port, name, *_]:
                self._need_machine(line).terminals[name] = int(port)
            case ["connector", "Connect", uart, name]:
                self._need_machine(line).wiring[uart] = name
            case ["machine", "Reset"]:
                self._running(line).reset()
            case ["start"]:
                self.start_emulation()
            case ["pause"]:
                for mach in self.machines.values():
                    if mach.board:
                        mach.board.pause()
            case ["quit"]:
                self.reset_emulation()
            case _:
                raise NotSupportedOnQemu(
                    f"Could not execute command '{line}': not supported on QEMU (supported: "
                    "mach create/set, machine LoadPlatformDescription, sysbus LoadELF/"
                    "LoadBinary, emulation CreateServerSocketTerminal, connector Connect, "
                    "machine Reset, start, pause, quit)")
        return ""

    @keyword
    def execute_script(self, path: str) -> str:
        """Run a .resc script line by line with `Execute Command` (so the same subset)."""
        script = Path(self._value(path).lstrip("@"))
        if not script.is_file():
            raise AssertionError(f"Could not execute script: {script} does not exist")
        for number, line in enumerate(script.read_text().splitlines(), 1):
            try:
                self.execute_command(line)
            except AssertionError as exc:
                raise AssertionError(f"{script}:{number}: {exc}") from exc
        return ""

    def _value(self, word: str) -> str:
        word = re.sub(r"\$(\w+)", lambda m: self.variables.get(m.group(1), m.group(0)), word)
        return word.strip('"')

    def _file(self, word: str) -> Path:
        path = Path(word.lstrip("@"))
        if not path.is_file():
            raise AssertionError(f"no such file: {path}")
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
            + ", ".join(f"{REPL_DIR}{n}.repl" for n in CATALOG))

    def _machine(self, name: str) -> Machine:
        try:
            return self.machines[name]
        except KeyError:
            raise AssertionError(f"Machine with name {name} not found. Available machines: "
                                 f"[{', '.join(self.machines)}]") from None

    def _need_machine(self, line: str) -> Machine:
        if self.current is None:
            raise AssertionError(f"'{line}' needs a machine: `mach create` first")
        return self.current

    def _running(self, line: str) -> QemuBoard:
        board = self._need_machine(line).board
        if board is None:
            raise AssertionError(f"'{line}': the machine is not started")
        return board

    # --- UART testers -------------------------------------------------------------------

    @keyword
    def set_default_uart_timeout(self, timeout: float) -> None:
        self.uart_timeout = float(timeout)

    @keyword
    def set_default_tester(self, id: int | None) -> None:
        self.default_tester = None if id in (None, "", "None") else int(id)  # type: ignore[arg-type]

    @keyword
    def create_terminal_tester(self, uart: str, timeout: float | None = None,
                               machine: str | None = None, endLineOption: str | None = None,
                               defaultPauseEmulation: bool | None = None,
                               defaultWaitForEcho: bool | None = None,
                               defaultMatchNextLine: bool | None = None,
                               binaryMode: bool = False) -> int:
        """A tester on a machine's console UART (e.g. `sysbus.usart1`); returns its id."""
        m = self._machine(machine) if machine else self._need_machine("Create Terminal Tester")
        if m.spec is None:
            raise AssertionError("load the platform before creating a tester on it")
        if uart != m.spec.console_uart:
            raise NotSupportedOnQemu(
                f"Terminal tester on {uart} is not supported on QEMU: on {m.spec.name} "
                f"{m.spec.link_uart} carries the TLS link; the console is {m.spec.console_uart}")
        if binaryMode:
            raise NotSupportedOnQemu("binaryMode testers are not supported on QEMU")
        self.testers.append(Tester(m, uart, float(timeout) if timeout is not None
                                   else self.uart_timeout, bool(defaultPauseEmulation),
                                   True if defaultWaitForEcho is None else defaultWaitForEcho,
                                   bool(defaultMatchNextLine)))
        self.default_tester = len(self.testers)
        return len(self.testers)

    def _tester(self, tester_id: int | None) -> Tester:
        tid = tester_id if tester_id is not None else self.default_tester
        if tid is None or not 1 <= int(tid) <= len(self.testers):
            raise AssertionError("Tester ID is invalid or no default tester is set: create "
                                 "one with Create Terminal Tester")
        return self.testers[int(tid) - 1]

    @staticmethod
    def _result(found: re.Match[str] | str) -> DotDict:
        if isinstance(found, str):
            return DotDict(Line=found, Groups=[], Timestamp=0.0)
        return DotDict(Line=found.string, Groups=list(found.groups()), Timestamp=0.0)

    def _wait(self, t: Tester, content: str, timeout: float | None, regex: bool,
              unfinished: bool, pause: bool | None, next_line: bool | None) -> DotDict:
        limit = float(timeout) if timeout is not None else t.timeout
        try:
            if next_line if next_line is not None else t.match_next_line:
                line = t.console.next_line(limit)
                found = (re.search(content, line) if regex else
                         (line if content in line else None))
                if not found:
                    raise WaitTimeout(f"the next line did not match {content!r}:\n{line}")
            else:
                found = t.console.wait_for_line(content, limit, regex=regex,
                                                include_unfinished=unfinished)
        except WaitTimeout as exc:
            raise AssertionError(f"Terminal tester failed!\n\nFull report:\n{exc}") from None
        if pause if pause is not None else t.pause_emulation:
            assert t.machine.board
            t.machine.board.pause()
        return self._result(found)

    @keyword
    def wait_for_line_on_uart(self, content: str, timeout: float | None = None,
                              testerId: int | None = None, treatAsRegex: bool = False,
                              includeUnfinishedLine: bool = False,
                              pauseEmulation: bool | None = None,
                              matchNextLine: bool | None = None) -> DotDict:
        """Wait for a line containing `content` (a regex with treatAsRegex) after the last
        match; returns an object with Line and Groups."""
        return self._wait(self._tester(testerId), content, timeout, treatAsRegex,
                          includeUnfinishedLine, pauseEmulation, matchNextLine)

    @keyword
    def wait_for_prompt_on_uart(self, prompt: str, testerId: int | None = None,
                                timeout: float | None = None, treatAsRegex: bool = False,
                                pauseEmulation: bool | None = None) -> DotDict:
        """Wait for `prompt`, also on a line not yet ended (a shell prompt)."""
        return self._wait(self._tester(testerId), prompt, timeout, treatAsRegex, True,
                          pauseEmulation, False)

    @keyword
    def wait_for_next_line_on_uart(self, timeout: float | None = None,
                                   testerId: int | None = None,
                                   pauseEmulation: bool | None = None) -> DotDict:
        t = self._tester(testerId)
        try:
            line = t.console.next_line(float(timeout) if timeout is not None else t.timeout)
        except WaitTimeout as exc:
            raise AssertionError(f"Terminal tester failed!\n\nFull report:\n{exc}") from None
        if pauseEmulation if pauseEmulation is not None else t.pause_emulation:
            assert t.machine.board
            t.machine.board.pause()
        return DotDict(Line=line, Groups=[], Timestamp=0.0)

    @keyword
    def should_not_be_on_uart(self, content: str, timeout: float | None = None,
                              testerId: int | None = None, treatAsRegex: bool = False,
                              includeUnfinishedLine: bool = False) -> None:
        """Fail if `content` appears within `timeout`."""
        t = self._tester(testerId)
        try:
            found = t.console.wait_for_line(
                content, float(timeout) if timeout is not None else t.timeout,
                regex=treatAsRegex, include_unfinished=includeUnfinishedLine)
        except WaitTimeout:
            return
        line = found if isinstance(found, str) else found.string
        raise AssertionError(f"Terminal tester failed!\n\nUnexpected entry has been found on "
                             f"UART#:\n{line}")

    @keyword
    def write_to_uart(self, content: str, testerId: int | None = None) -> DotDict:
        self._tester(testerId).console.write(content.encode())
        return DotDict(Line="", Groups=[], Timestamp=0.0)

    @keyword
    def write_line_to_uart(self, content: str = "", testerId: int | None = None,
                           waitForEcho: bool | None = None,
                           pauseEmulation: bool | None = None) -> DotDict:
        """Send `content` and a carriage return; by default wait until it is echoed."""
        t = self._tester(testerId)
        t.console.write(content.encode() + b"\r")
        if (waitForEcho if waitForEcho is not None else t.wait_for_echo) and content:
            self._wait(t, content, None, False, True, pauseEmulation, False)
        return DotDict(Line="", Groups=[], Timestamp=0.0)

    @keyword
    def get_terminal_tester_report(self, testerId: int | None = None) -> str:
        """The console output the tester has seen, the unconsumed part marked."""
        console = self._tester(testerId).console
        return console.report()

    # --- log tester ---------------------------------------------------------------------

    @keyword
    def clear_log_tester_history(self) -> None:
        lt = self._logs()
        lt.read(self._log_paths())
        lt.buffer.clear()

    @keyword
    def create_log_tester(self, timeout: float, defaultPauseEmulation: bool | None = None) \
            -> None:
        """Watch the emulator's log (QEMU: guest errors and unimplemented-device accesses)."""
        self.log_tester = LogTester(float(timeout), bool(defaultPauseEmulation))

    def _logs(self) -> LogTester:
        if self.log_tester is None:
            raise AssertionError("Log tester is not available. Create it with the `Create "
                                 "Log Tester` keyword")
        return self.log_tester

    def _log_paths(self) -> list[Path]:
        return [m.board.log_path for m in self.machines.values() if m.board]

    def _find_in_log(self, lt: LogTester, pattern: str, regex: bool, keep: bool) -> Any:
        lt.read(self._log_paths())
        for i, line in enumerate(lt.buffer):
            if re.search(pattern, line) if regex else pattern in line:
                if not keep:
                    del lt.buffer[: i + 1]
                return line
        return Seen(lt.buffer[-5:])

    @keyword
    def wait_for_log_entry(self, pattern: str, timeout: float | None = None, keep: bool = False,
                           treatAsRegex: bool = False, pauseEmulation: bool | None = None,
                           level: str | None = None) -> str:
        """Wait for a log line containing `pattern`. QEMU's log has no levels: `level` is
        accepted and not applied."""
        lt = self._logs()
        limit = float(timeout) if timeout is not None else lt.timeout
        try:
            line = wait_for(lambda: self._find_in_log(lt, pattern, treatAsRegex, keep), limit,
                            f"log entry {pattern!r}")
        except WaitTimeout:
            last = lt.buffer[-20:]
            raise AssertionError(
                f'Expected pattern "{pattern}" did not appear in the log\nLast {len(last)} '
                "buffered log messages are: \n " + "\n ".join(last)) from None
        if pauseEmulation if pauseEmulation is not None else lt.pause:
            for m in self.machines.values():
                if m.board:
                    m.board.pause()
        return str(line)

    @keyword
    def should_not_be_in_log(self, pattern: str, timeout: float | None = None,
                             treatAsRegex: bool = False, pauseEmulation: bool | None = None,
                             level: str | None = None) -> None:
        lt = self._logs()
        try:
            line = wait_for(lambda: self._find_in_log(lt, pattern, treatAsRegex, True),
                            float(timeout) if timeout is not None else lt.timeout,
                            f"log entry {pattern!r}")
        except WaitTimeout:
            return
        raise AssertionError(f"Unexpected line detected in the log: {line}")

    # --- for the platform library -------------------------------------------------------

    def board(self, machine: str | None = None) -> QemuBoard:
        """The running board of `machine` (default: the current one)."""
        m = self._machine(machine) if machine else self._need_machine("board")
        if m.board is None:
            raise AssertionError(f"machine {m.name!r} is not started")
        return m.board
