"""TLS on memory BIOs over a plain asyncio connection: the TLS library only turns bytes
into bytes, and the handshake, its deadline and the record pump are ours.

Why not `start_tls` or `open_connection(ssl=...)`: when a client certificate fails
verification, asyncio's SSL protocol closes the socket without flushing OpenSSL's alert, so
a device sees a bare disconnect instead of "unknown CA" or "certificate revoked". Here the
alert is always sent, the handshake has its own deadline, and the decrypted buffer is
bounded (a peer cannot make us buffer more than `max_buffer` bytes). And the two ends need
not use one TLS library: the gateway's is Python's `ssl`, the virtual devices' pyOpenSSL
(`client.py` says why); each is an `Engine`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any, Protocol

READ_SIZE = 65536


class Engine(Protocol):
    """One TLS connection of some TLS library, on memory BIOs. Its failures are
    `ssl.SSLError`s, whichever library it is."""

    def feed(self, data: bytes) -> None:
        """Bytes received from the peer."""

    def outgoing(self) -> bytes:
        """Bytes to send to the peer (b"" when there are none)."""

    def handshake(self) -> bool:
        """Advance the handshake: True when it is complete, False when it waits for the
        peer."""

    def read(self) -> bytes | None:
        """Decrypted bytes (b"" when there are none yet); None once the peer closed."""

    def write(self, data: bytes) -> None:
        """Encrypt `data` into the outgoing bytes."""

    def close_notify(self) -> None:
        """Queue the close_notify alert."""

    @property
    def connection(self) -> object:
        """The library's own connection object (`ssl.SSLObject`, `OpenSSL.SSL.Connection`)."""


class TlsReader:
    """The `readexactly` half of a StreamReader, fed by the decrypting pump."""

    # slots: one reader and one writer per device session, 10,000 on one gateway
    __slots__ = ("_buf", "_eof", "_exc", "_data", "_room", "max_buffer")

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

    __slots__ = ("_engine", "_raw", "_pump")

    def __init__(self, engine: Engine, raw: asyncio.StreamWriter,
                 pump: asyncio.Task[None]) -> None:
        self._engine, self._raw, self._pump = engine, raw, pump

    @property
    def transport(self) -> asyncio.BaseTransport:
        return self._raw.transport

    def write(self, data: bytes) -> None:
        self._engine.write(data)
        self._raw.write(self._engine.outgoing())

    async def drain(self) -> None:
        await self._raw.drain()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self._engine.connection
        return self._raw.get_extra_info(name, default)

    def close(self) -> None:
        with contextlib.suppress(ssl.SSLError, OSError):
            self._engine.close_notify()
        with contextlib.suppress(OSError, RuntimeError):
            self._raw.write(self._engine.outgoing())
        self._pump.cancel()
        self._raw.close()

    async def wait_closed(self) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            await self._raw.wait_closed()


async def handshake(engine: Engine, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter, timeout: float,
                    max_buffer: int = 256 * 1024) -> tuple[TlsReader, TlsWriter]:
    """Run the handshake within `timeout`, then pump records both ways. On failure the
    alert is flushed before the SSLError is raised (the caller closes the socket)."""

    async def flush() -> None:
        if pending := engine.outgoing():
            writer.write(pending)
            await writer.drain()

    async def run() -> None:
        while not engine.handshake():
            await flush()
            data = await reader.read(READ_SIZE)
            if not data:
                raise ConnectionResetError("peer closed during the TLS handshake")
            engine.feed(data)

    try:
        await asyncio.wait_for(run(), timeout)
    except ssl.SSLError:
        with contextlib.suppress(OSError, ConnectionError):
            await asyncio.wait_for(flush(), 2)  # the alert tells the peer why
        raise
    await flush()  # the handshake's last flight
    app_reader = TlsReader(max_buffer)

    def drain() -> bool:
        """Move every decrypted byte the engine holds into the reader; False at
        close_notify. Runs before each socket read: application data can arrive in the
        same segment as the handshake's last flight and would otherwise wait for the next
        packet."""
        while True:
            chunk = engine.read()
            if chunk is None:
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
                engine.feed(data)
        except (ssl.SSLError, OSError, ConnectionError) as exc:
            app_reader.end(exc)
        except asyncio.CancelledError:
            app_reader.end()
            raise

    task = asyncio.create_task(pump())
    return app_reader, TlsWriter(engine, writer, task)
