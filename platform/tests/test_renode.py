"""The Renode backend without Renode: its scripts (golden files generated from the
catalog), its monitor client against a recorded monitor session, and the errors a user
meets where Renode is missing."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from wasmbed.emulation import (
    EmulatorUnavailable,
    RenodeBoard,
    board_spec,
    find_renode,
    renode_boards,
)
from wasmbed.emulation.catalog import FIRMWARE_DIR
from wasmbed.emulation.renode import (
    RESC_DIR,
    MonitorClient,
    RenodeError,
    render_repl,
    render_resc,
)


@pytest.mark.parametrize("board", sorted(renode_boards()))
def test_resc_files_are_the_generated_ones(board):
    spec = board_spec(board)
    committed = (RESC_DIR / f"{board}.resc").read_text()
    assert committed == render_resc(spec), \
        f"renode/{board}.resc is stale: run tools/renode_scripts.py"
    assert (RESC_DIR / f"{board}.repl").read_text() == render_repl(spec), \
        f"renode/{board}.repl is stale: run tools/renode_scripts.py"
    assert "ApplySVD @" not in render_repl(spec)
    board_h = (FIRMWARE_DIR / "boards" / board / "board.h").read_text()
    assert f"#define BOARD_CPU_HZ {spec.systick_hz}u" in board_h, "catalog and board.h differ"
    assert f"connector Connect {spec.console_uart} console" in committed
    assert f"connector Connect {spec.link_uart} link" in committed
    assert f"sysbus LoadBinary $blob 0x{spec.provision_addr:08X}" in committed


# A monitor session recorded from Renode 1.15.3 (renode --disable-gui --hide-log --port N):
# telnet negotiation and no prompt; the first line a client sends is swallowed; each command
# echoed; errors in red (ESC[;031m); the prompt coloured, naming the current machine.
NEGOTIATION = b'\xff\xfd\x00\xff\xfb\x01\xff\xfb\x03\xff\xfc"'
VERSION = (b"\x1b[0mRenode, version 1.15.3.39012 (03756cb5-202611302140)\n\r\n\r"
           b"\x1b[31;1m(monitor) \x1b[0m")
TRANSCRIPT: list[tuple[bytes | None, bytes]] = [
    (None, NEGOTIATION),
    (b"\n", b""),  # swallowed
    (b"version\n", VERSION),
    (b"$bin=@/tmp/fw.elf\n", b"$bin=@/tmp/fw.elf\n\r\x1b[31;1m(monitor) \x1b[0m"),
    (b'mach create "dut"\n', b'mach create "dut"\n\r\x1b[33;1m(dut) \x1b[0m'),
    (b"sysbus.cpu PC\n", b"sysbus.cpu PC\n\r0x8000189\r\r\n\x1b[33;1m(dut) \x1b[0m"),
    (b"sysbus LoadELF $bin\n",
     b"sysbus LoadELF $bin\n\r\x1b[;031mThere was an error executing command 'sysbus LoadELF "
     b"$bin'\r\n\x1b[0m\x1b[;031mFile does not exist: /tmp/fw.elf\r\n\x1b[0m"
     b"\x1b[33;1m(dut) \x1b[0m"),
    (b"frobnicate\n", b"frobnicate\n\r\x1b[;031mNo such command or device: frobnicate\r\n"
                      b"\x1b[0m\x1b[33;1m(dut) \x1b[0m"),
]


@pytest.fixture
def monitor_server():
    server = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            for expect, answer in TRANSCRIPT:
                if expect is not None:
                    got = b""
                    while not got.endswith(b"\n"):
                        got += conn.recv(1)
                    seen.append(got)
                    assert got == expect, (got, expect)
                for i in range(0, len(answer), 7):  # in pieces, as a socket may
                    conn.sendall(answer[i:i + 7])
            conn.recv(1)  # hold the connection until the client goes

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname(), seen
    server.close()


def test_monitor_client_speaks_renodes_monitor(monitor_server):
    address, seen = monitor_server
    mon = MonitorClient(address, timeout=5)
    assert mon.machine == "monitor" and mon.version == "1.15.3.39012"
    assert mon.execute("$bin=@/tmp/fw.elf") == ""
    mon.execute('mach create "dut"')
    assert mon.machine == "dut"  # the prompt follows the current machine
    assert mon.execute("sysbus.cpu PC") == "0x8000189"
    with pytest.raises(RenodeError, match="File does not exist: /tmp/fw.elf"):
        mon.execute("sysbus LoadELF $bin")
    with pytest.raises(RenodeError, match="No such command or device: frobnicate"):
        mon.execute("frobnicate")
    assert seen[:2] == [b"\n", b"version\n"]
    mon.close()


def test_a_silent_monitor_times_out_saying_what_it_got():
    server = socket.create_server(("127.0.0.1", 0))
    held = []  # keep the connection open: a silent monitor, not a closed one

    def serve() -> None:
        conn, _ = server.accept()
        held.append(conn)
        conn.sendall(b"Renode, vers")

    threading.Thread(target=serve, daemon=True).start()
    with pytest.raises(TimeoutError, match="no Renode prompt.*Renode, vers"):
        MonitorClient(server.getsockname(), timeout=2.5)
    server.close()


def test_without_renode_boards_say_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("WASMBED_RENODE", str(tmp_path / "no-renode"))
    monkeypatch.setenv("PATH", "/nonexistent")
    assert find_renode() is None
    with pytest.raises(EmulatorUnavailable, match="install Renode to run arduino_nano_33_ble"):
        RenodeBoard(board_spec("arduino_nano_33_ble"), tmp_path / "fw.elf", tmp_path)
    with pytest.raises(EmulatorUnavailable, match="install Renode to run arduino_uno_r4_minima"):
        board_spec("arduino_uno_r4_minima").qemu_binary()


def test_renode_is_found_through_the_environment(monkeypatch, tmp_path):
    fake = tmp_path / "renode"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("WASMBED_RENODE", str(fake))
    assert find_renode() == Path(fake)
