"""EmulatorKeywords' tester and monitor semantics, against a console we script (a local TCP
server standing in for the emulator's UART socket; the real boards run in robot/suites)."""

from __future__ import annotations

import socket
import threading
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
            self._conn.sendall(data)  # echo, as a shell does

    def send(self, text: str) -> None:
        wait_for(lambda: self._conn is not None, 5, "the console to connect")
        assert self._conn
        self._conn.sendall(text.encode())


@pytest.fixture
def lib_and_uart(tmp_path):
    uart = FakeUart()
    lib = EmulatorKeywords()
    lib.execute_command("mach create dut")
    lib.execute_command("machine LoadPlatformDescription @platforms/boards/stm32f4_discovery.repl")
    m = lib.machines["dut"]
    paused = []
    m.board = SimpleNamespace(console=Console(uart.address), pause=lambda: paused.append(1),
                              log_path=tmp_path / "emulator.log", stop=lambda: None)
    lib.create_terminal_tester("sysbus.usart1", timeout=2)
    yield lib, uart, paused
    m.board.console.close()


def test_wait_for_line_returns_line_and_groups_and_consumes(lib_and_uart):
    lib, uart, _ = lib_and_uart
    uart.send("wasmbed: boot firmware=0.1.0 board=stm32f4_discovery\r\nsecond\r\n")
    r = lib.wait_for_line_on_uart(r"boot firmware=(\S+) board=(\S+)", treatAsRegex=True)
    assert r.Line.startswith("wasmbed: boot") and r.Groups == ["0.1.0", "stm32f4_discovery"]
    assert lib.wait_for_next_line_on_uart().Line == "second"
    with pytest.raises(AssertionError, match="(?s)Terminal tester failed!.*boot firmware"):
        lib.wait_for_line_on_uart("boot firmware", timeout=0.3)  # consumed already


def test_failure_says_what_was_awaited_and_shows_the_lines(lib_and_uart):
    lib, uart, _ = lib_and_uart
    uart.send("alpha\r\nbeta\r\n")
    with pytest.raises(AssertionError) as err:
        lib.wait_for_line_on_uart("gamma", timeout=0.5)
    text = str(err.value)
    assert "Full report" in text and "'gamma'" in text and "alpha\nbeta" in text


def test_should_not_be_on_uart_consumes_nothing(lib_and_uart):
    lib, uart, _ = lib_and_uart
    uart.send("connected id=x\r\n")
    lib.should_not_be_on_uart("enrolled", timeout=0.3)
    assert lib.wait_for_line_on_uart("connected").Line == "connected id=x"
    uart.send("enrolled again\r\n")
    with pytest.raises(AssertionError, match="Unexpected entry"):
        lib.should_not_be_on_uart("enrolled", timeout=2)


def test_prompt_on_an_unfinished_line_and_echo(lib_and_uart):
    lib, uart, paused = lib_and_uart
    uart.send("wasmbed> ")
    lib.wait_for_prompt_on_uart("wasmbed>", pauseEmulation=True)
    assert paused == [1]
    lib.write_line_to_uart("status")
    assert uart.received == b"status\r"
    lib.write_to_uart("x", testerId=1)
    wait_for(lambda: uart.received.endswith(b"x"), 2, "the byte to arrive")


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
    with pytest.raises(AssertionError, match="Tester ID is invalid"):
        lib.wait_for_line_on_uart("x", testerId=7)


def test_script_sets_variables_and_wires_uarts(tmp_path):
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
    assert m.loads == [(blob.resolve(), 0x080C0000)]
    assert m.ports() == {"console": 41000, "link": 41001}


def test_log_tester_reads_the_emulator_log(lib_and_uart):
    lib, _, _ = lib_and_uart
    log = lib.machines["dut"].board.log_path
    lib.create_log_tester(1)
    log.write_text("unimp: write to 0x40023800\nguest error: bad access\n")
    assert "bad access" in lib.wait_for_log_entry("bad access")
    with pytest.raises(AssertionError, match='Expected pattern "nothing" did not appear'):
        lib.wait_for_log_entry("nothing", timeout=0.3)
    lib.should_not_be_in_log("bad access", timeout=0.3)  # consumed by the wait above
