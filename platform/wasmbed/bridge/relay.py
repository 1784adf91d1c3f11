"""Relaying one board's link to a gateway, and many boards at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from wasmbed.bridge.faults import DOWN, UP, NetworkFaults
from wasmbed.lab.labfile import SerialPortConfig
from wasmbed.lab.serial_port import open_serial_stream

log = logging.getLogger("wasmbed.bridge")
READ_SIZE = 16384
TLS_HANDSHAKE = 0x16
CLIENT_HELLO = 0x01


class TlsRecordTracker:
    """Follows TLS record boundaries in the device->gateway stream and splits it where a
    ClientHello record starts. Bytes are never changed; at a record boundary it holds back
    up to 5 bytes until the record type and first handshake byte are known."""

    def __init__(self) -> None:
        self._pending = b""
        self._remaining = 0  # payload bytes left in the current record

    def feed(self, data: bytes) -> list[tuple[bool, bytes]]:
        """Segments (starts_new_session, bytes) to forward, in order."""
        buf = self._pending + data
        self._pending = b""
        out: list[tuple[bool, bytes]] = []
        cur = bytearray()
        new = False
        i = 0
        while i < len(buf):
            if self._remaining:
                take = min(self._remaining, len(buf) - i)
                cur += buf[i:i + take]
                self._remaining -= take
                i += take
                continue
            if len(buf) - i < 6:
                self._pending = buf[i:]
                break
            rtype, major, length = buf[i], buf[i + 1], int.from_bytes(buf[i + 3:i + 5], "big")
            if rtype not in (0x14, 0x15, 0x16, 0x17) or major != 3:
                cur.append(buf[i])  # not a record header: out of sync, slide one byte
                i += 1
                continue
            if rtype == TLS_HANDSHAKE and buf[i + 5] == CLIENT_HELLO:
                if cur or new:
                    out.append((new, bytes(cur)))
                cur, new = bytearray(), True
            cur += buf[i:i + 5]
            self._remaining = length
            i += 5
        if cur or new:
            out.append((new, bytes(cur)))
        return out


@dataclass
class BoardLink:
    """One board: its link UART (an emulator's TCP socket, or a lab board's serial port)
    and the gateway it talks to."""

    name: str
    board: tuple[str, int] | SerialPortConfig
    gateway: tuple[str, int]
    bytes_up: int = 0
    bytes_down: int = 0
    sessions: int = 0
    _upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    _down_task: asyncio.Task[None] | None = None
    _board_writer: asyncio.StreamWriter | None = None
    tracker: TlsRecordTracker = field(default_factory=TlsRecordTracker)
    attached: asyncio.Event = field(default_factory=asyncio.Event)
    faults: NetworkFaults = field(default_factory=NetworkFaults)

    async def run(self) -> None:
        """Keep the board side connected forever; open gateway sessions on demand."""
        while True:
            try:
                reader, writer = await self._open_board()
            except OSError as exc:
                log.debug("%s: board link not there yet: %s", self.name, exc)
                await asyncio.sleep(0.2)  # the emulator is not listening yet: retry
                continue
            self._board_writer = writer  # type: ignore[assignment]
            self.tracker = TlsRecordTracker()  # a new attachment is a new byte stream
            self.attached.set()
            log.info("%s: attached to board link %s", self.name, self.board_text)
            try:
                await self._pump_up(reader)
            except (OSError, ConnectionError) as exc:  # e.g. RST from a killed emulator
                log.info("%s: board link lost: %s", self.name, exc)
            finally:
                await self._close_upstream()
                writer.close()
                self._board_writer = None
            log.info("%s: board link closed; reattaching", self.name)

    @property
    def board_text(self) -> str:
        if isinstance(self.board, tuple):
            return f"{self.board[0]}:{self.board[1]}"
        return f"{self.board.port} at {self.board.baud} baud"

    async def _open_board(self) -> tuple[asyncio.StreamReader, Any]:
        if isinstance(self.board, tuple):
            return await asyncio.open_connection(*self.board)
        return await open_serial_stream(self.board.port, self.board.baud)

    async def _pump_up(self, reader: asyncio.StreamReader) -> None:
        while data := await reader.read(READ_SIZE):
            for new_session, chunk in self.tracker.feed(data):
                if new_session:  # the device starts over: so does its gateway connection
                    await self._close_upstream()
                if self._upstream is None:
                    await self._open_upstream()
                out = await self.faults.apply(UP, chunk) if chunk else None
                if self._upstream and out:
                    self._upstream[1].write(out)
                    self.bytes_up += len(out)
                    with contextlib.suppress(ConnectionError):
                        await self._upstream[1].drain()

    async def _open_upstream(self) -> None:
        if self.faults.refuse:
            return  # partitioned: the device's bytes go nowhere
        try:
            self._upstream = await asyncio.open_connection(*self.gateway)
        except OSError as exc:
            log.warning("%s: gateway %s:%s unreachable: %s", self.name, *self.gateway, exc)
            self._upstream = None
            return
        self.sessions += 1
        self._down_task = asyncio.create_task(self._pump_down(*self._upstream))

    async def _pump_down(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        cut = asyncio.ensure_future(self.faults.cut_event.wait())
        try:
            while True:
                read = asyncio.ensure_future(reader.read(READ_SIZE))
                done, _ = await asyncio.wait({read, cut}, return_when=asyncio.FIRST_COMPLETED)
                if cut in done:
                    read.cancel()
                    writer.transport.abort()  # RST towards the gateway
                    break
                data = read.result()
                if not data:
                    break
                out = await self.faults.apply(DOWN, data)
                if out and self._board_writer:
                    self.bytes_down += len(out)
                    self._board_writer.write(out)
                    await self._board_writer.drain()
        except (OSError, ConnectionError):
            pass
        finally:
            cut.cancel()
        self._upstream = None  # the gateway ended it; the next bytes open a new session

    async def _close_upstream(self) -> None:
        if self._down_task:
            self._down_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._down_task
            self._down_task = None
        if self._upstream:
            self._upstream[1].close()
            self._upstream = None


class Bridge:
    def __init__(self, links: list[BoardLink], faults: NetworkFaults | None = None) -> None:
        self.links = links
        self.faults = faults or NetworkFaults()
        for link in links:
            link.faults = self.faults  # one fault setting for the whole bridge

    async def run(self) -> None:
        await asyncio.gather(*(link.run() for link in self.links))
