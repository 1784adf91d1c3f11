"""Length-prefixed framing: 4-byte big-endian payload length, then the CBOR payload.

`FrameReader` reads frames from an asyncio stream; `FrameDecoder` is the same logic for
byte pushes (bridges, tests). Both refuse a length above `max_frame` before reading it, so
a hostile prefix cannot make us allocate. The firmware applies the same rule
(wb_frame_check): a length above the limit is `FrameTooLarge`, a zero length (no CBOR item
can be empty) `MalformedCbor`.
"""

from __future__ import annotations

import asyncio
import struct

from wasmbed.protocol import errors

DEFAULT_MAX_FRAME = 64 * 1024  # the protocol's largest payload (WB_MAX_FRAME)
# What a device accepts when its Hello announces no max_frame, and the firmware's default
# receive limit (WB_DEVICE_MAX_FRAME: a 4 KiB buffer holds the header and this payload).
DEVICE_MAX_FRAME = 4096 - 4
HEADER = struct.Struct(">I")


def frame(payload: bytes, max_frame: int = DEFAULT_MAX_FRAME) -> bytes:
    """Prefix `payload` with its length; refuses what the receiver would refuse."""
    check_length(len(payload), max_frame)
    return HEADER.pack(len(payload)) + payload


def check_length(length: int, max_frame: int) -> None:
    """The receiver's rule for an announced payload length (the firmware's wb_frame_check)."""
    if length > max_frame:
        raise errors.FrameTooLarge(f"frame announces {length} bytes, max is {max_frame}")
    if length == 0:
        raise errors.MalformedCbor("empty frame: no CBOR item is zero bytes long")


class FrameDecoder:
    """Incremental decoder: `feed(data)` returns every complete payload. A bad header
    never costs the frames before it: they are returned, and the error is raised by the
    next `feed` or `close` (and by every call after), so what is delivered does not depend
    on how the bytes were chunked."""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._error: errors.ProtocolError | None = None

    def feed(self, data: bytes) -> list[bytes]:
        if self._error is not None:
            raise self._error
        self._buf += data
        out: list[bytes] = []
        while len(self._buf) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buf)
            try:
                check_length(length, self.max_frame)
            except errors.ProtocolError as exc:
                self._error = exc
                if not out:
                    raise
                break
            if len(self._buf) < HEADER.size + length:
                break
            out.append(bytes(self._buf[HEADER.size : HEADER.size + length]))
            del self._buf[: HEADER.size + length]
        return out

    def close(self) -> None:
        """Call at end of stream: raises the pending header error, or `TruncatedFrame` if
        a partial frame is buffered."""
        if self._error is not None:
            raise self._error
        if self._buf:
            raise errors.TruncatedFrame(f"stream ended with {len(self._buf)} bytes of a frame")


class FrameReader:
    """Reads whole frames from a `StreamReader`; returns None on a clean end of stream."""

    __slots__ = ("reader", "max_frame")

    def __init__(self, reader: asyncio.StreamReader, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.reader = reader
        self.max_frame = max_frame

    async def read(self) -> bytes | None:
        try:
            header = await self.reader.readexactly(HEADER.size)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise errors.TruncatedFrame("stream ended inside a frame header") from exc
            return None
        (length,) = HEADER.unpack(header)
        check_length(length, self.max_frame)
        try:
            return await self.reader.readexactly(length)
        except asyncio.IncompleteReadError as exc:
            raise errors.TruncatedFrame(
                f"stream ended after {len(exc.partial)} of {length} payload bytes"
            ) from exc


def max_chunk_data(max_frame: int, module_id: str, version: int) -> int:
    """The most module bytes one DeployChunk for `module_id` can carry in a frame of at most
    `max_frame` payload bytes (the receiver's announced limit)."""
    from wasmbed.protocol.codec import encode
    from wasmbed.protocol.messages import DeployChunk

    empty = len(encode(DeployChunk(module_id, 2**32 - 1, b""), 2**32 - 1, version))
    room = max_frame - empty
    # the byte string's head grows with its length: 1 byte below 24, 3 up to 65535, 5 above
    return max(0, room - (4 if room > 65535 + 4 else 2 if room > 23 + 2 else 0))
