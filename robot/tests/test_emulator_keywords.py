"""EmulatorKeywords behaves as Renode 1.15.3's source says (UartKeywords, TestersProvider,
TerminalTester, LogTester), against a console we script: a local TCP server standing in for
the emulator's UART socket. (robot/conformance runs the same semantics on real boards, under
both emulators.)"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from EmulatorKeywords import EmulatorKeywords, Machine

from wasmbed.emulation import Console, board_spec
from wasmbed.waiting import wait_for


class FakeUart:
    """The emulator's side of a console socket: send output, record input, echo it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = self.server.getsockname()
        self.received = b""
        self._conn: socket.socket | None = None
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self._conn, _ = self.server.accept()
        while data := self._conn.recv(1024):
            self.received += data
            self._conn.sendall(data.replace(b"\r", b"\r\n"))  # echo, as a shell does

    def send(self, text: str | bytes) -> None:
        wait_for(lambda: self._conn is not None, 5, "the console to connect")
        assert self._conn
        self._conn.sendall(text.encode() if isinstance(text, str) else text)


def fake_board(uart: FakeUart, tmp_path: Path, paused: list[int]) -> SimpleNamespace:
    return SimpleNamespace(console=Console(uart.address), pause=lambda: paused.append(1),
                           resume=lambda: None, log_path=tmp_path / "emulator.log",
                           stop=lambda: None)


@pytest.fixture
def lib_and_uart(tmp_path):
    yield from uart_under_test(tmp_path)


@pytest.fixture
def binary_lib_and_uart(tmp_path):
    yield from uart_under_test(tmp_path, binaryMode=True)


def uart_under_test(tmp_path: Path, **tester: object) \
        -> Iterator[tuple[EmulatorKeywords, FakeUart, list[int]]]:
    uart = FakeUart()
    lib = EmulatorKeywords()
    lib.execute_command("mach create dut")
    lib.execute_command("machine LoadPlatformDescription @platforms/boards/stm32f4_discovery.repl")
    m = lib.machines["dut"]
    paused: list[int] = []
    m.board = fake_board(uart, tmp_path, paused)
    m.started_running = True
    lib.create_terminal_tester("sysbus.usart1", timeout=2, **tester)
    yield lib, uart, paused
    m.board.console.close()


def test_wait_returns_line_groups_timestamp_and_consumes(lib_and_uart):
    lib, uart, _ = lib_and_uart
    uart.send("wasmbed: boot firmware=0.1.0 board=stm32f4_discovery\r\nsecond\r\n")
    r = lib.wait_for_line_on_uart(r"boot firmware=(\S+) board=(\S+)", treatAsRegex=True)
    assert r.line.startswith("wasmbed: boot") and r.groups == ["0.1.0", "stm32f4_discovery"]
    assert r.timestamp >= 0
    assert lib.wait_for_next_line_on_uart().line == "second"
    with pytest.raises(AssertionError, match="(?s)Terminal tester failed!.*boot firmware"):
        lib.wait_for_line_on_uart("boot firmware", timeout=0.3)  # consumed already


def test_unmatched_groups_are_empty_strings(lib_and_uart):
    lib, uart, _ = lib_and_uart
    uart.send("pair: alpha=1\r\n")
    r = lib.wait_for_line_on_uart(r"alpha=(\d)( beta=(\d))?", treatAsRegex=True)
    assert r.groups == ["1", "", ""]


def test_colours_and_nul_bytes(lib_and_uart):
    lib, uart, _ = lib_and_uart
    uart.send(b"colour: \x1b[32mgreen\x1b[0m text\r\nnul: a\x00b\r\n")
    assert lib.wait_for_line_on_uart("colour: green text").line == "colour: green text"
    assert lib.wait_for_line_on_uart("nul:").line == "nul: ab"  # the result keeps printables


def test_failure_says_what_was_awaited_and_consumes_nothing(lib_and_uart):
    lib, uart, _ = lib_and_uart
    uart.send("alpha\r\nbeta\r\n")
    with pytest.raises(AssertionError) as err:
        lib.wait_for_line_on_uart("gamma", timeout=0.5)
    text = str(err.value)
    assert "Full report" in text and ">>gamma<<" in text and "alpha\nbeta" in text
    assert lib.wait_for_line_on_uart("alpha").line == "alpha"


def test_match_next_line_checks_only_the_next_line(lib_and_uart):
    lib, uart, _ = lib_and_uart
    uart.send("one\r\ntwo\r\n")
    with pytest.raises(AssertionError):
        lib.wait_for_line_on_uart("two", timeout=0.3, matchNextLine=True)
    assert lib.wait_for_line_on_uart("one", matchNextLine=True).line == "one"
    assert lib.wait_for_line_on_uart("two", matchNextLine=True).line == "two"


def test_unfinished_line_match_consumes_it(lib_and_uart):
    lib, uart, paused = lib_and_uart
    uart.send("before\r\nwasmbed> ")
    assert lib.wait_for_prompt_on_uart("wasmbed>", pauseEmulation=True).line == "wasmbed> "
    assert paused == [1]
    uart.send("status\r\n")
    assert lib.wait_for_next_line_on_uart().line == "status"  # the prompt part is gone
    with pytest.raises(AssertionError):
        lib.wait_for_line_on_uart("before", timeout=0.3)  # consumed with the prompt


def test_should_not_be_on_uart(lib_and_uart):
    lib, uart, _ = lib_and_uart
    uart.send("connected id=x\r\n")
    lib.should_not_be_on_uart("enrolled", timeout=0.3)
    assert lib.wait_for_line_on_uart("connected").line == "connected id=x"
    uart.send("enrolled again\r\n")
    with pytest.raises(AssertionError, match="Unexpected entry"):
        lib.should_not_be_on_uart("enrolled", timeout=2)


def test_write_line_waits_for_the_echo_even_of_nothing(lib_and_uart):
    lib, uart, _ = lib_and_uart
    lib.write_line_to_uart("status")
    assert uart.received == b"status\r"
    lib.write_line_to_uart("")  # empty content: the current (empty) line already matches
    wait_for(lambda: uart.received == b"status\r\r", 2, "the empty line's carriage return")
    lib.write_line_to_uart("quiet", waitForEcho=False)
    lib.write_char_on_uart("x")
    lib.send_key_to_uart(0x41)
    wait_for(lambda: uart.received.endswith(b"quiet\rxA"), 2, "the bytes to arrive")


def test_uart_idle(lib_and_uart):
    lib, uart, _ = lib_and_uart
    lib.test_if_uart_is_idle(0.3)
    threading.Timer(0.1, uart.send, args=("noise\r\n",)).start()
    with pytest.raises(AssertionError, match="Terminal is idle"):
        lib.test_if_uart_is_idle(2)


def test_tester_ids_defaults_and_errors(lib_and_uart, tmp_path):
    lib, uart, _ = lib_and_uart
    assert lib.create_terminal_tester("sysbus.usart1") == 0  # the same UART: the same id
    lib.execute_command("mach create other")
    lib.execute_command("machine LoadPlatformDescription @renode/stm32f4_discovery.repl")
    with pytest.raises(AssertionError, match="No machine name provided"):
        lib.create_terminal_tester("sysbus.usart1")
    second = FakeUart()
    lib.machines["other"].board = fake_board(second, tmp_path, [])
    assert lib.create_terminal_tester("sysbus.usart1", machine="other") == 1
    with pytest.raises(AssertionError, match="more than one tester"):
        lib.wait_for_line_on_uart("x", timeout=0.1)
    with pytest.raises(AssertionError, match="Tester #7 was not found"):
        lib.set_default_tester(7)
    with pytest.raises(AssertionError, match="ID=7 was not found"):
        lib.wait_for_line_on_uart("x", testerId=7)
    lib.set_default_tester(1)
    second.send("from other\r\n")
    assert lib.wait_for_line_on_uart("from").line == "from other"
    lib.set_default_tester(None)
    with pytest.raises(AssertionError, match="more than one tester"):
        lib.wait_for_line_on_uart("x", timeout=0.1)
    lib.machines["other"].board.console.close()


def test_create_terminal_tester_defaults_are_shared(lib_and_uart):
    lib, uart, paused = lib_and_uart
    lib.create_terminal_tester("sysbus.usart1", defaultPauseEmulation=True)
    uart.send("x\r\n")
    lib.wait_for_line_on_uart("x")
    assert paused == [1]


def test_unsupported_commands_say_so(lib_and_uart):
    lib, _, _ = lib_and_uart
    with pytest.raises(AssertionError, match="not supported on QEMU"):
        lib.execute_command("showAnalyzer sysbus.usart1")
    with pytest.raises(AssertionError, match="install Renode to run arduino_nano_33_ble"):
        lib.execute_command("machine LoadPlatformDescription "
                            "@platforms/boards/arduino_nano_33_ble.repl")
    with pytest.raises(AssertionError, match="not supported on QEMU; our boards"):
        lib.execute_command("machine LoadPlatformDescription @platforms/boards/tegra2.repl")
    with pytest.raises(AssertionError, match="carries the TLS link"):
        lib.create_terminal_tester("sysbus.usart2")
    with pytest.raises(AssertionError, match="File does not exist"):
        lib.execute_command("sysbus LoadELF @/nonexistent.elf")


def test_script_sets_variables_macros_and_wires_uarts(tmp_path):
    elf, blob = tmp_path / "fw.elf", tmp_path / "b.blob"
    elf.write_bytes(b"\x7fELF")
    blob.write_bytes(b"WBP1")
    lib = EmulatorKeywords()
    lib.execute_command(f"$bin=@{elf}")
    lib.execute_command(f"$blob=@{blob}")
    lib.execute_command("$console_port=41000")
    lib.execute_command("$link_port=41001")
    lib.execute_script(str(Path(__file__).parents[2] / "renode" / "stm32f4_discovery.resc"))
    m: Machine = lib.machines["stm32f4_discovery"]
    assert m.spec == board_spec("stm32f4_discovery") and m.elf == elf.resolve()
    assert m.loads == [(blob.resolve(), 0x080C0000)]  # from runMacro $reset
    assert "sysbus LoadELF $bin" in " ".join(lib.macros["reset"])
    assert m.ports() == {"console": 41000, "link": 41001}


def test_log_tester_reads_the_emulator_log_and_lifecycle(lib_and_uart):
    lib, _, _ = lib_and_uart
    log = lib.machines["dut"].board.log_path
    lib.create_log_tester(1)
    log.write_text("unimp: write to 0x40023800\nInvalid read at addr 0x5FFFFFF4\n")
    assert "0x5FFFFFF4" in lib.wait_for_log_entry("(?i)0x5ffffff4", treatAsRegex=True)
    with pytest.raises(AssertionError, match='Expected pattern "nothing" did not appear'):
        lib.wait_for_log_entry("nothing", timeout=0.3)
    lib.should_not_be_in_log("0x5FFFFFF4", timeout=0.3)  # consumed by the wait above
    lib.execute_command("pause")
    assert lib.wait_for_log_entry("Machine paused.") == "dut: Machine paused."
    lib.clear_log_tester_history()
    lib.should_not_be_in_log("unimp", timeout=0.2)


def test_temporary_files_and_local_downloads(lib_and_uart, tmp_path):
    lib, _, _ = lib_and_uart
    path = Path(lib.allocate_temporary_file())
    assert path.is_file()
    source = tmp_path / "data.bin"
    source.write_bytes(b"payload")
    assert Path(lib.download_file(source.as_uri())).read_bytes() == b"payload"
    with pytest.raises(AssertionError, match="Wrong URI format"):
        lib.download_file("not a uri")


def test_requires_an_unknown_state(lib_and_uart):
    lib, _, _ = lib_and_uart
    with pytest.raises(AssertionError, match="Required state nowhere not found."):
        lib.requires("nowhere")


def test_binary_mode_waits_for_bytes(binary_lib_and_uart):
    lib, uart, _ = binary_lib_and_uart
    uart.send(b"\x00\x01\r\n\xde\xad\xbe\xef tail")
    with pytest.raises(AssertionError, match="Please set binaryMode=False"):
        lib.wait_for_line_on_uart("tail", timeout=0.1)
    got = lib.wait_for_bytes_on_uart("0d 0a de ad")  # NUL, CR and LF are bytes like others
    assert got.content == b"\r\n\xde\xad"
    with pytest.raises(AssertionError, match="Terminal tester failed"):
        lib.wait_for_bytes_on_uart("00 01", timeout=0.2)  # consumed
    with pytest.raises(AssertionError, match="Terminal tester failed"):
        lib.wait_for_bytes_on_uart("74 61", timeout=0.2, matchStart=True)  # not next
    got = lib.wait_for_bytes_on_uart(r"\xef (t)", treatAsRegex=True)
    assert got.content == b"\xef t" and got.groups == [b"t"]


def test_text_testers_refuse_bytes(lib_and_uart):
    lib, _, _ = lib_and_uart
    with pytest.raises(AssertionError, match="Please set binaryMode=True"):
        lib.wait_for_bytes_on_uart("00", timeout=0.1)


def test_log_tester_drops_past_its_maximum_and_says_so(lib_and_uart):
    lib, _, _ = lib_and_uart
    log = lib.machines["dut"].board.log_path
    lib.create_log_tester(1, maxLogEntries=10)
    log.write_text("".join(f"line {i}\n" for i in range(25)))
    with pytest.raises(AssertionError, match="some messages were dropped"):
        lib.wait_for_log_entry("line 0", timeout=0.2)
    assert lib.wait_for_log_entry("line 24") == "line 24"
    with pytest.raises(AssertionError, match="increase maxLogEntries"):
        lib.should_not_be_in_log("nothing", timeout=0.1)
    lib.clear_log_tester_history()
    lib.should_not_be_in_log("nothing", timeout=0.1)


def test_log_wait_without_starting_the_emulation(tmp_path):
    lib = EmulatorKeywords()
    started: list[bool] = []
    lib._ensure_started = lambda: started.append(True)  # type: ignore[method-assign]
    lib.create_log_tester(1)
    with pytest.raises(AssertionError, match="did not appear"):
        lib.wait_for_log_entry("x", timeout=0.1, startEmulation=False)
    assert started == []
    with pytest.raises(AssertionError, match="did not appear"):
        lib.wait_for_log_entry("x", timeout=0.1)
    assert started == [True]


def test_temporary_directories(lib_and_uart):
    lib, _, _ = lib_and_uart
    first = Path(lib.allocate_temporary_directory("work"))
    assert first.is_dir() and first.name == "work"
    (first / "kept").write_text("x")
    assert Path(lib.allocate_temporary_directory("work")) == first  # an existing one as is
    assert (first / "kept").exists()
    with pytest.raises(AssertionError, match="Can't create temporary directory"):
        lib.allocate_temporary_directory("../../escape")


def test_a_passing_wait_logs_the_line_it_matched(lib_and_uart, monkeypatch):
    import EmulatorKeywords as module

    logged: list[str] = []
    monkeypatch.setattr(module.logger, "info", lambda msg, *a, **k: logged.append(msg))
    lib, uart, _ = lib_and_uart
    uart.send("wasmbed: connected id=dev-7\r\n")
    lib.wait_for_line_on_uart("connected id=")
    assert logged[-1] == "matched Line containing >>connected id=<<: 'wasmbed: connected id=dev-7'"
