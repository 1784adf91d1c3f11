"""`wasmbed bridge` and `wasmbed proxy`: relays with network-fault control, until SIGTERM."""

from __future__ import annotations

import asyncio
from pathlib import Path

from wasmbed.aio import cancel_and_wait
from wasmbed.bridge.fault_api import build_control_app
from wasmbed.bridge.faults import NetworkFaults
from wasmbed.bridge.proxy import TcpProxy
from wasmbed.bridge.relay import BoardLink, Bridge
from wasmbed.lab.labfile import SerialPortConfig
from wasmbed.serving import (
    HttpService,
    bind,
    start_uvicorn,
    url_of,
    wait_for_shutdown_signal,
    write_ready,
)


def parse_link(spec: str) -> BoardLink:
    """NAME=BOARD->GATEWAY_HOST:PORT, where BOARD is an emulator UART's HOST:PORT or a
    serial port: a device path or rfc2217://HOST:PORT, with @BAUD (default 115200)."""
    name, _, rest = spec.partition("=")
    board, _, gateway = rest.rpartition("->")
    if not (name and board and gateway):
        raise ValueError(f"bad link {spec!r}; expected NAME=HOST:PORT->HOST:PORT or "
                         "NAME=/dev/ttyUSB0@115200->HOST:PORT")

    def addr(text: str) -> tuple[str, int]:
        host, _, port = text.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"bad link {spec!r}: {text!r} is not HOST:PORT")
        return host, int(port)

    if board.startswith("/") or board.startswith("rfc2217://"):
        port, at, baud = board.rpartition("@")
        serial = SerialPortConfig(port=port, baud=int(baud)) if at and baud.isdigit() \
            else SerialPortConfig(port=board)
        return BoardLink(name, serial, addr(gateway))
    return BoardLink(name, addr(board), addr(gateway))


async def _serve_control(faults: NetworkFaults) -> tuple[str, HttpService]:
    sock = bind("127.0.0.1", 0)
    return url_of(sock), await start_uvicorn(build_control_app(faults), sock)


async def run_bridge(links: list[BoardLink], ready_file: Path | None) -> None:
    bridge = Bridge(links)
    task = asyncio.create_task(bridge.run())
    control_url, control = await _serve_control(bridge.faults)
    # ready = attached to every board, so nothing the firmware sends is lost
    await asyncio.wait_for(asyncio.gather(*(link.attached.wait() for link in links)), 30)
    write_ready(ready_file, {"links": [link.name for link in links], "control": control_url})
    try:
        await wait_for_shutdown_signal()
    finally:
        await control.stop()
        await cancel_and_wait([task])


async def run_proxy(target: tuple[str, int], listen_port: int, ready_file: Path | None) \
        -> None:
    faults = NetworkFaults()
    proxy = TcpProxy(target, faults)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", listen_port, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    control_url, control = await _serve_control(faults)
    write_ready(ready_file, {"listen": f"127.0.0.1:{port}", "port": port,
                             "control": control_url})
    try:
        await wait_for_shutdown_signal()
    finally:
        server.close()
        await control.stop()
