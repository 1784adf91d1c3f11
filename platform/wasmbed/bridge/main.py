"""`wasmbed bridge`: relay boards' link sockets to gateways until SIGTERM."""

from __future__ import annotations

import asyncio
from pathlib import Path

from wasmbed.bridge.relay import BoardLink, Bridge
from wasmbed.serving import wait_for_shutdown_signal, write_ready


def parse_link(spec: str) -> BoardLink:
    """NAME=BOARD_HOST:PORT->GATEWAY_HOST:PORT"""
    name, _, rest = spec.partition("=")
    board, _, gateway = rest.partition("->")
    if not (name and board and gateway):
        raise ValueError(f"bad link {spec!r}; expected NAME=HOST:PORT->HOST:PORT")

    def addr(text: str) -> tuple[str, int]:
        host, _, port = text.rpartition(":")
        return host, int(port)

    return BoardLink(name, addr(board), addr(gateway))


async def run_bridge(links: list[BoardLink], ready_file: Path | None) -> None:
    task = asyncio.create_task(Bridge(links).run())
    # ready = attached to every board, so nothing the firmware sends is lost
    await asyncio.wait_for(asyncio.gather(*(link.attached.wait() for link in links)), 30)
    write_ready(ready_file, {"links": [link.name for link in links]})
    try:
        await wait_for_shutdown_signal()
    finally:
        task.cancel()
