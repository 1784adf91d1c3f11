"""A loopback TCP proxy in front of a gateway for virtual devices, with the same network
faults as the bridge. Each accepted connection gets its own upstream connection."""

from __future__ import annotations

import asyncio

from wasmbed.aio import cancel_and_wait
from wasmbed.bridge.faults import DOWN, UP, NetworkFaults
from wasmbed.bridge.relay import READ_SIZE


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: str,
               faults: NetworkFaults) -> None:
    try:
        while data := await reader.read(READ_SIZE):
            out = await faults.apply(direction, data)
            if out:
                writer.write(out)
                await writer.drain()
    except (OSError, ConnectionError):
        pass


class TcpProxy:
    def __init__(self, target: tuple[str, int], faults: NetworkFaults) -> None:
        self.target = target
        self.faults = faults
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.faults.refuse:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        tasks = [asyncio.ensure_future(pump(reader, up_writer, UP, self.faults)),
                 asyncio.ensure_future(pump(up_reader, writer, DOWN, self.faults)),
                 asyncio.ensure_future(self.faults.cut_event.wait())]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        cut = tasks[2] in done
        await cancel_and_wait(tasks)
        for w in (writer, up_writer):
            if cut:
                w.transport.abort()  # RST both ways
            else:
                w.close()
