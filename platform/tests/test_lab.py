"""The lab backend's parts, each against the real thing where it is cheap: lab files,
command templates, flash verification, board locks held by other processes, and the bridge
relaying a real pseudo-terminal."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import tty
from pathlib import Path

import pytest

from wasmbed.bridge.main import parse_link
from wasmbed.bridge.relay import BoardLink
from wasmbed.lab.commands import LabCommandFailed, fill, run_command
from wasmbed.lab.flashing import FlashFailed, verify_sections
from wasmbed.lab.labfile import LabFileError, SerialPortConfig, load_lab, select_boards
from wasmbed.lab.lock import BoardBusy, BoardLock

GOOD = """\
boards:
  desk-f4:
    type: stm32f4_discovery
    console: {port: /dev/ttyUSB0}
    link: {port: "rfc2217://lab-pi:4001", baud: 230400}
    probe: {gdb: "127.0.0.1:3333"}
    power:
      on: uhubctl -l 1-1 -p 2 -a on
      off: uhubctl -l 1-1 -p 2 -a off
    labels: [desk, f4]
  rack-3:
    type: stm32f4_discovery
    console: {port: /dev/serial/by-id/usb-FTDI-if00}
    link: {port: /dev/serial/by-id/usb-FTDI-if01}
    flash: {command: "openocd -f board/stm32f4discovery.cfg -c 'program {hex} verify reset exit'"}
    reset: {command: "openocd -f board/stm32f4discovery.cfg -c 'init; reset run; exit'"}
    labels: [rack]
"""


def write(tmp_path: Path, text: str, name: str = "lab.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_lab_file_loads_with_defaults(tmp_path):
    lab = load_lab(write(tmp_path, GOOD))
    desk = lab.boards["desk-f4"]
    assert desk.console.baud == 115200 and desk.link.baud == 230400
    assert desk.flash == "probe" and desk.reset == "probe"
    assert desk.probe and desk.probe.address == ("127.0.0.1", 3333)
    assert desk.probe.halt == ["monitor reset halt"]  # OpenOCD's, by default
    assert desk.power and desk.power.on.endswith("-a on")  # bare YAML on/off keys
    assert lab.boards["rack-3"].probe is None


def test_the_same_lab_in_toml(tmp_path):
    path = write(tmp_path, """\
        [boards.desk]
        type = "stm32f4_discovery"
        console = {port = "/dev/ttyACM0"}
        link = {port = "/dev/ttyACM1"}
        probe = {gdb = "localhost:3333", halt = [], reset = ["monitor reset"]}
        """, "lab.toml")
    assert load_lab(path).boards["desk"].probe.reset == ["monitor reset"]  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "says"), [
    ("boards: {x: {type: teensy, console: {port: /dev/a}, link: {port: /dev/b}}}",
     "boards.x.type: Value error, unknown board type 'teensy'"),
    ("boards: {x: {type: stm32f4_discovery, console: {port: /dev/a}, link: {port: /dev/b}}}",
     "flash: probe needs a `probe: {gdb: host:port}` entry"),
    ("boards: {x: {type: stm32f4_discovery, console: {port: COM3}, link: {port: /dev/b}}}",
     "boards.x.console.port"),
    ("boards: {x: {type: stm32f4_discovery, console: {port: /dev/a}, link: {port: /dev/b}, "
     "probe: {gdb: localhost}}}", "expected host:port of a GDB server"),
    ("boards: {x: {type: stm32f4_discovery, consol: {port: /dev/a}}}", "boards.x.consol"),
    ("boards: {}", "`boards` is empty"),
    ("boards: [", "is not valid YAML"),
])
def test_a_wrong_lab_file_says_where_and_what(tmp_path, text, says):
    with pytest.raises(LabFileError) as err:
        load_lab(write(tmp_path, text))
    assert says in str(err.value) and str(tmp_path) in str(err.value)


def test_a_missing_lab_file_says_so(tmp_path):
    with pytest.raises(LabFileError, match="no lab file at .*docs/LAB.md"):
        load_lab(tmp_path / "nope.yaml")


def test_boards_are_selected_by_name_or_label(tmp_path):
    lab = load_lab(write(tmp_path, GOOD))
    assert select_boards(lab, None) == ["desk-f4", "rack-3"]
    assert select_boards(lab, ["rack"]) == ["rack-3"]
    assert select_boards(lab, ["desk-f4", "rack"]) == ["desk-f4", "rack-3"]
    with pytest.raises(LabFileError, match="no lab board is named or labelled nano.*desk, "):
        select_boards(lab, ["nano"])


def test_templates_quote_what_they_fill_in():
    assert fill("flash {elf} at {blob_addr}", {"elf": "/tmp/a b.elf", "blob_addr": "0x1"}) \
        == "flash '/tmp/a b.elf' at 0x1"
    with pytest.raises(LabCommandFailed, match=r"names \{bin\}; the known placeholders are elf"):
        fill("program {bin}", {"elf": "x"})


def test_a_failing_command_reports_its_status_and_output():
    with pytest.raises(LabCommandFailed, match=r"power on: `echo no power; exit 3` exited 3"
                                               r":\nno power"):
        run_command("power on", "echo no power; exit 3", {})
    assert run_command("reset", "echo {board}", {"board": "desk-f4"}).strip() == "desk-f4"


def test_flashing_verifies_every_section_including_the_blob():
    ok = ("Section .text, range 0x8000000 -- 0x802823c: matched.\n"
          "Section .wasmbed_provision, range 0x80c0000 -- 0x80c0040: matched.\n")
    verify_sections(ok, "probe")
    with pytest.raises(FlashFailed, match="did not verify"):
        verify_sections(ok.replace("0x80c0040: matched", "0x80c0040: MIS-MATCHED!"), "probe")
    with pytest.raises(FlashFailed, match="did not verify"):
        verify_sections(ok.splitlines()[0], "probe")  # the blob was never written
    with pytest.raises(FlashFailed, match="did not verify"):
        verify_sections("127.0.0.1:3333: Connection timed out.", "probe")


HOLDER = """\
import sys
from pathlib import Path
from wasmbed.lab.lock import BoardLock
lock = BoardLock("desk-f4", Path(sys.argv[1]))
lock.acquire("scenarios/test_x.py::test_holder", timeout=5)
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


def hold_in_another_process(lock_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock_dir)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout and proc.stdout.readline().strip() == "held"
    return proc


def test_a_busy_board_names_its_holder_then_frees(tmp_path):
    holder = hold_in_another_process(tmp_path)
    try:
        lock = BoardLock("desk-f4", tmp_path)
        told: list[str] = []
        with pytest.raises(BoardBusy) as err:
            lock.acquire("mine", timeout=0.5, on_wait=told.append)
        assert f"pid {holder.pid}" in str(err.value)
        assert "scenarios/test_x.py::test_holder" in str(err.value)
        assert err.value.holder["pid"] == holder.pid and told and "test_holder" in told[0]
    finally:
        holder.stdin.close()  # type: ignore[union-attr]
        holder.wait(10)
    assert lock.acquire("mine", timeout=5) >= 0
    assert lock.holder()["test"] == "mine"
    lock.release()


def test_a_killed_holder_leaves_the_board_free(tmp_path):
    holder = hold_in_another_process(tmp_path)
    holder.kill()
    holder.wait(10)
    lock = BoardLock("desk-f4", tmp_path)
    assert lock.acquire("after a crash", timeout=2) == 0.0  # the kernel dropped the lock
    lock.release()


def test_bridge_links_name_serial_ports():
    link = parse_link("b1=rfc2217://lab-pi:4001?ign_set_control@230400->127.0.0.1:4423")
    assert link.board == SerialPortConfig(port="rfc2217://lab-pi:4001?ign_set_control",
                                          baud=230400)
    assert parse_link("b2=/dev/ttyUSB1->gw:1").board == SerialPortConfig(port="/dev/ttyUSB1")
    assert parse_link("b3=127.0.0.1:5000->gw:1").board == ("127.0.0.1", 5000)
    with pytest.raises(ValueError, match="'COM3' is not HOST:PORT"):
        parse_link("b4=COM3->gw:1")


async def test_the_bridge_relays_a_serial_port_unchanged():
    """A pseudo-terminal plays the USB-serial adapter: bytes from the board reach the
    gateway unchanged, and the gateway's answer reaches the board."""
    master, slave = os.openpty()
    tty.setraw(slave)
    received = bytearray()
    got = asyncio.Event()

    async def gateway(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(4096):
            received.extend(data)
            if len(received) >= 300:
                got.set()
                writer.write(b"\x17\x03\x03\x00\x02ok")
                await writer.drain()

    server = await asyncio.start_server(gateway, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = BoardLink("pty", SerialPortConfig(port=os.ttyname(slave)), ("127.0.0.1", port))
    task = asyncio.create_task(link.run())
    try:
        await asyncio.wait_for(link.attached.wait(), 10)
        hello = bytes([0x16, 3, 1]) + (295).to_bytes(2, "big") + bytes([1]) + bytes(range(256)) \
            + bytes(38)
        os.write(master, hello)
        await asyncio.wait_for(got.wait(), 10)
        assert bytes(received) == hello
        loop = asyncio.get_running_loop()
        answer = await asyncio.wait_for(loop.run_in_executor(None, os.read, master, 100), 10)
        assert answer == b"\x17\x03\x03\x00\x02ok"
    finally:
        task.cancel()
        server.close()
        os.close(master)
        os.close(slave)
