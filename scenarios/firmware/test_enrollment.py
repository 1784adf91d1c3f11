"""Real firmware in QEMU enrolls over the bridge with mutual TLS 1.3 and heartbeats."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import allure
import pytest

from harness.evidence import read_json_lines
from scenarios.steps import device_phase
from wasmbed.emulation import board_spec
from wasmbed.emulation.board import EmulatedBoard
from wasmbed.pki import CertificateAuthority
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Firmware"), pytest.mark.board]


@pytest.mark.also_board("emcraft_sf2_som")  # its own UART driver and memory map
@allure.story("Enrollment over the bridge with mutual TLS 1.3; heartbeats make it Connected")
def test_firmware_enrolls_and_connects(api, board, bridge, gateway, provisioned, board_target,
                                       wait_for):
    name, blob = provisioned()
    b = board(blob=blob, paused=True)
    bridge(b, gateway)
    b.resume()
    b.console.wait_for_line("wasmbed: tls connecting identity=bootstrap", 60)
    m = b.console.wait_for_line(r"wasmbed: tls connected (\S+)", 60)
    assert m.group(1) == "TLSv1.3"
    b.console.wait_for_line(rf"wasmbed: enrolled id={name}\b", 60)
    b.console.wait_for_line("wasmbed: tls connecting identity=operational", 60)
    b.console.wait_for_line(rf"wasmbed: connected id={name}\b", 60)
    dev = wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected")
    assert dev["status"]["firmwareVersion"]
    spec = board_spec(board_target[0])
    assert dev["status"]["capabilities"] == {"maxModuleSize": spec.max_module_size,
                                             "wasmRam": spec.wasm_ram}
    assert dev["status"]["board"] == spec.name


def _halted_board_for_its_link_socket(board: Callable[..., Any],
                                      provisioned: Callable[..., tuple[str, Path]]) \
        -> EmulatedBoard:
    """A provisioned board, halted, whose link socket the test plays the far end of."""
    _, blob = provisioned()
    b = board(blob=blob, paused=True)
    if not isinstance(b, EmulatedBoard) or not isinstance(b.link_address, tuple):
        pytest.skip("needs an emulated board's link socket (a lab board's is a serial port)")
    return b


@pytest.mark.also_board("emcraft_sf2_som")  # its own UART driver and memory map
@allure.story("A flood on the link while the firmware is not reading waits in the UART and "
              "is dropped; it never wedges the firmware")
def test_a_link_flood_while_backing_off_does_not_wedge_the_firmware(board, provisioned):
    b = _halted_board_for_its_link_socket(board, provisioned)
    with socket.create_connection(b.link_address, timeout=10) as peer:
        b.resume()
        b.console.wait_for_line("wasmbed: tls connecting identity=bootstrap", 60)
        with allure.step("8 KiB that are not TLS: the handshake fails and the rest arrives "
                         "while the firmware backs off, reading nothing"):
            peer.sendall(bytes(8192))
        b.console.wait_for_line(r"wasmbed: tls handshake failed", 30)
        b.console.wait_for_line(r"wasmbed: reconnecting in \d+ ms", 30)
        m = b.console.wait_for_line(r"wasmbed: dropped (\d+) stale link bytes", 30)
        assert 1024 < int(m.group(1)) < 8192
        b.console.wait_for_line("wasmbed: tls connecting identity=bootstrap", 30)


@allure.story("A ClientHello nobody answers (a partitioned link) is given up after a short "
              "silence, not after the whole handshake timeout")
def test_an_unanswered_client_hello_is_given_up_early(board, provisioned):
    b = _halted_board_for_its_link_socket(board, provisioned)
    with socket.create_connection(b.link_address, timeout=10):
        b.resume()
        b.console.wait_for_line("wasmbed: tls connecting identity=bootstrap", 60)
        b.console.wait_for_line("wasmbed: tls handshake timed out: no answer from the gateway",
                                30)
        b.console.wait_for_line(r"wasmbed: reconnecting in \d+ ms", 10)


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(4096):
            dst.sendall(data)
    except OSError:
        pass  # either side closed: the relay is over


@allure.story("Bytes of the previous session that arrive after the ClientHello (a late "
              "close_notify on a UART) are skipped; the handshake does not fail on them")
def test_stale_bytes_after_the_client_hello_are_skipped(board, gateway, provisioned):
    b = _halted_board_for_its_link_socket(board, provisioned)
    # the size of an encrypted close_notify: header, alert, content type, 16-byte tag
    stale = bytes([0x17, 0x03, 0x03, 0x00, 0x13]) + os.urandom(19)
    with socket.create_connection(b.link_address, timeout=30) as device, \
            socket.create_connection(gateway.tls_address, timeout=30) as upstream:
        b.resume()
        b.console.wait_for_line("wasmbed: tls connecting identity=bootstrap", 60)
        client_hello = device.recv(4096)  # its first bytes at least: the handshake waits
        with allure.step("the relay sends the board a stale record, then the gateway's answer"):
            device.sendall(stale)
            upstream.sendall(client_hello)
        pumps = [threading.Thread(target=_pipe, args=pair, daemon=True)
                 for pair in ((device, upstream), (upstream, device))]
        for pump in pumps:
            pump.start()
        try:
            b.console.wait_for_line(rf"wasmbed: skipped {len(stale)} stale link bytes", 30)
            b.console.wait_for_line(r"wasmbed: tls connected TLSv1\.3", 30)
        finally:
            for sock in (device, upstream):
                with contextlib.suppress(OSError):  # the gateway may have closed already
                    sock.shutdown(socket.SHUT_RDWR)
            for pump in pumps:
                pump.join(10)
    assert not [line for line in b.console.lines if "handshake failed" in line]


@allure.story("After a reset the device reconnects with its stored certificate")
def test_reset_reconnects_without_reenrolling(api, connected_board, wait_for):
    name, b = connected_board
    serial = api.device(name)["status"]["certificate"]["serial"]
    with allure.step("warm reset of the board"):
        before = len(b.console.lines)
        b.reset()
    b.console.wait_for_line("wasmbed: boot", 60)
    b.console.wait_for_line("wasmbed: tls connecting identity=operational", 60)
    b.console.wait_for_line(rf"wasmbed: connected id={name}\b", 60)
    assert not any("enrolled id=" in line for line in b.console.lines[before:])
    assert api.device(name)["status"]["certificate"]["serial"] == serial
    wait_for(lambda: device_phase(api, name, "Connected"), 30, f"{name} Connected again")


@allure.story("A device whose bootstrap cert comes from a foreign CA is refused")
def test_wrong_ca_firmware_is_refused(api, board, bridge, gateway, provisioned, tmp_path):
    rogue = CertificateAuthority.create(tmp_path / "rogue", "Rogue Factory CA")
    name, blob = provisioned("fw-rogue", factory=rogue)
    b = board(blob=blob, paused=True)
    bridge(b, gateway)
    b.resume()
    b.console.wait_for_line(r"wasmbed: (refused|tls handshake failed)", 60)
    assert api.device(name)["status"]["phase"] == "Pending"
    assert not any("enrolled" in line for line in b.console.lines)


@allure.story("The board keeps time: heartbeats come at the interval the gateway set")
def test_heartbeats_keep_the_interval(connected_board, gateway, evidence, wait_for):
    """A SysTick clocked at another rate than the firmware assumes (Renode's RA4M1 model
    runs it at 120 MHz where the port assumed 48 MHz) makes every interval wrong by that
    ratio: 2.5x here. The device's own uptime between beats shows its idea of a second;
    the host's clock between arrivals shows the emulator's."""
    import statistics

    name, _ = connected_board
    trace = evidence.path(f"{gateway.name}-trace", ".jsonl")

    def beats() -> list[dict] | object:
        rows = [r for r in read_json_lines(trace)
                if r["type"] == "Heartbeat" and r["dir"] == "device->gateway"]
        return rows if len(rows) >= 6 else Seen(len(rows))

    rows = wait_for(beats, 60, "six heartbeats")
    pairs = list(zip(rows, rows[1:], strict=False))
    uptime = [b["fields"]["uptime_ms"] - a["fields"]["uptime_ms"] for a, b in pairs]
    host = [b["ts"] - a["ts"] for a, b in pairs]
    interval_ms = 1000  # the scenarios' gateway heartbeat interval (1 s)
    with allure.step(f"uptime between beats {uptime} ms, host {[round(h, 2) for h in host]} s"):
        assert all(abs(u - interval_ms) <= 50 for u in uptime[1:]), uptime
        assert 0.5 <= statistics.median(host) <= 2.0, host
