"""The gateway's end: a ClientHello gate, then Python's `ssl` on memory BIOs.

The gateway stays on the standard library's TLS (the system's OpenSSL): it is what sets
`num_tickets = 0` (no session tickets for boards on a slow UART) and checks CRLs.
"""

from __future__ import annotations

import asyncio
import ssl

from .streams import READ_SIZE, TlsReader, TlsWriter, handshake

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


class StdlibEngine:
    """`ssl.SSLObject`, server side, as an `Engine`."""

    __slots__ = ("_in", "_out", "_obj")  # one per device session

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._obj = ctx.wrap_bio(self._in, self._out, server_side=True)

    @property
    def connection(self) -> ssl.SSLObject:
        return self._obj

    def feed(self, data: bytes) -> None:
        self._in.write(data)

    def outgoing(self) -> bytes:
        return self._out.read()

    def handshake(self) -> bool:
        try:
            self._obj.do_handshake()
        except ssl.SSLWantReadError:
            return False
        return True

    def read(self) -> bytes | None:
        try:
            return self._obj.read(READ_SIZE)
        except ssl.SSLWantReadError:
            return b""
        except ssl.SSLZeroReturnError:
            return None

    def write(self, data: bytes) -> None:
        self._obj.write(data)

    def close_notify(self) -> None:
        self._obj.unwrap()


async def server_handshake(ctx: ssl.SSLContext, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter, timeout: float,
                           max_buffer: int = 256 * 1024,
                           first: bytes = b"") -> tuple[TlsReader, TlsWriter]:
    """The server handshake (`first`: bytes already read, the ClientHello); on failure the
    alert is flushed before the SSLError is raised (the caller closes the socket)."""
    engine = StdlibEngine(ctx)
    engine.feed(first)
    return await handshake(engine, reader, writer, timeout, max_buffer)
