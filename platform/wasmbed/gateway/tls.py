"""Server-side TLS on memory BIOs over a plain asyncio connection.

Why not `start_tls`: when a client certificate fails verification, asyncio's SSL protocol
closes the socket without flushing OpenSSL's alert, so a device sees a bare disconnect
instead of "unknown CA" or "certificate revoked". Here the alert is always sent, the
handshake has its own deadline, and the decrypted buffer is bounded (a device cannot make
the gateway buffer more than `max_buffer` bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

READ_SIZE = 65536
RECORD_HEADER = 5
MAX_HELLO_RECORD = 16384 + 2048  # a TLS plaintext record, with room for a long ClientHello


class NotTls(ConnectionError):
    """The peer's first bytes are not a TLS handshake record."""


async def read_client_hello(reader: asyncio.StreamReader) -> bytes:
    """The first TLS record, which must be a handshake record (the ClientHello). A
    connection costs the gateway nothing but a coroutine until this returns: handshake
    slots are taken only by peers that have actually begun a handshake."""
    header = await reader.readexactly(RECORD_HEADER)
    if header[0] != 0x16 or header[1] != 0x03:
        raise NotTls(f"not a TLS handshake (first bytes {header.hex()})")
    length = int.from_bytes(header[3:5], "big")
    if not 0 < length <= MAX_HELLO_RECORD:
        raise NotTls(f"a {length}-byte first record is not a ClientHello")
    return header + await reader.readexactly(length)


class TlsReader:
    """The `readexactly` half of a StreamReader, fed by the decrypting pump."""

    def __init__(self, max_buffer: int) -> None:
        self._buf = bytearray()
        self._eof = False
        self._exc: BaseException | None = None
        self._data = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.max_buffer = max_buffer

    def feed(self, data: bytes) -> None:
        self._buf += data
        self._data.set()
        if len(self._buf) >= self.max_buffer:
            self._room.clear()

    def end(self, exc: BaseException | None = None) -> None:
        self._eof = True
        self._exc = exc
        self._data.set()

    async def wait_for_room(self) -> None:
        await self._room.wait()

    async def readexactly(self, n: int) -> bytes:
        while len(self._buf) < n:
            if self._eof:
                if self._exc is not None and not self._buf:
                    raise self._exc
                partial = bytes(self._buf)
                self._buf.clear()
                raise asyncio.IncompleteReadError(partial, n)
            self._data.clear()
            await self._data.wait()
        out = bytes(self._buf[:n])
        del self._buf[:n]
        if len(self._buf) < self.max_buffer:
            self._room.set()
        return out


class TlsWriter:
    """The StreamWriter half: encrypts into the raw connection."""

    def __init__(self, obj: ssl.SSLObject, outgoing: ssl.MemoryBIO,
                 raw: asyncio.StreamWriter, pump: asyncio.Task[None]) -> None:
        self._obj, self._out, self._raw, self._pump = obj, outgoing, raw, pump

    def write(self, data: bytes) -> None:
        self._obj.write(data)
        self._raw.write(self._out.read())

    async def drain(self) -> None:
        await self._raw.drain()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self._obj
        return self._raw.get_extra_info(name, default)

    def close(self) -> None:
        with contextlib.suppress(ssl.SSLError, OSError):
            self._obj.unwrap()  # queue close_notify
        with contextlib.suppress(OSError, RuntimeError):
            self._raw.write(self._out.read())
        self._pump.cancel()
        self._raw.close()

    async def wait_closed(self) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            await self._raw.wait_closed()


async def server_handshake(ctx: ssl.SSLContext, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter, timeout: float,
                           max_buffer: int = 256 * 1024,
                           first: bytes = b"") -> tuple[TlsReader, TlsWriter]:
    """Run the server handshake (`first`: bytes already read, the ClientHello); on failure
    the alert is flushed before the SSLError is raised (the caller closes the socket)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    incoming.write(first)
    obj = ctx.wrap_bio(incoming, outgoing, server_side=True)

    async def flush() -> None:
        if pending := outgoing.read():
            writer.write(pending)
            await writer.drain()

    async def handshake() -> None:
        while True:
            try:
                obj.do_handshake()
                return
            except ssl.SSLWantReadError:
                await flush()
                data = await reader.read(READ_SIZE)
                if not data:
                    raise ConnectionResetError("peer closed during handshake") from None
                incoming.write(data)

    try:
        await asyncio.wait_for(handshake(), timeout)
    except ssl.SSLError:
        with contextlib.suppress(OSError, ConnectionError):
            await asyncio.wait_for(flush(), 2)  # the alert tells the device why
        raise
    await flush()  # session tickets
    app_reader = TlsReader(max_buffer)

    def drain() -> bool:
        """Move every decrypted byte OpenSSL holds into the reader; False at close_notify.
        Runs before each socket read: application data can arrive in the same segment as
        the handshake's last flight and would otherwise wait for the next packet."""
        while True:
            try:
                chunk = obj.read(READ_SIZE)
            except ssl.SSLWantReadError:
                return True
            except ssl.SSLZeroReturnError:
                return False
            if not chunk:
                return True
            app_reader.feed(chunk)

    async def pump() -> None:
        try:
            while True:
                if not drain():
                    app_reader.end()
                    return
                await flush()
                await app_reader.wait_for_room()
                data = await reader.read(READ_SIZE)
                if not data:
                    app_reader.end()
                    return
                incoming.write(data)
        except (ssl.SSLError, OSError, ConnectionError) as exc:
            app_reader.end(exc)
        except asyncio.CancelledError:
            app_reader.end()
            raise

    task = asyncio.create_task(pump())
    return app_reader, TlsWriter(obj, outgoing, writer, task)
