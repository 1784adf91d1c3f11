"""A message link over an asyncio stream pair: framing, codec, message ids and tracing.

Both protocol peers in Python (gateway sessions and virtual devices) use this one class, so
the trace format (one JSON line per frame) is the same everywhere.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import time
from collections.abc import Callable
from typing import IO, Any

from wasmbed.protocol.codec import HELLO_VERSION, Envelope, decode, encode
from wasmbed.protocol.framing import DEFAULT_MAX_FRAME, FrameReader, frame
from wasmbed.protocol.schema import Message

TraceHook = Callable[[str, Envelope], None]


def envelope_to_json(direction: str, env: Envelope) -> dict[str, Any]:
    """A JSON-ready record of one frame: bytes fields become {"len", "b64"} (truncated)."""
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(env.message):  # type: ignore[arg-type]
        value = getattr(env.message, f.name)
        if isinstance(value, bytes):
            value = {"len": len(value), "b64": base64.b64encode(value[:48]).decode()}
        fields[f.name] = value
    return {
        "ts": time.time(),
        "dir": direction,
        "type": type(env.message).__name__,
        "id": env.msg_id,
        "v": env.version,
        "fields": fields,
    }


class JsonlTrace:
    """Appends each frame as one JSON line to a file (the protocol trace of a session)."""

    def __init__(self, fp: IO[str], label: str = "") -> None:
        self.fp = fp
        self.label = label

    def __call__(self, direction: str, env: Envelope) -> None:
        record = envelope_to_json(direction, env)
        if self.label:
            record["peer"] = self.label
        self.fp.write(json.dumps(record) + "\n")
        self.fp.flush()


class MessageLink:
    # slots: one per device session, 10,000 on one gateway
    __slots__ = ("frames", "writer", "max_frame", "trace", "tx_label", "rx_label", "_next_id",
                 "_send_lock", "version", "peer_max_frame")

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        max_frame: int = DEFAULT_MAX_FRAME,
        trace: TraceHook | None = None,
        tx_label: str = "tx",
        rx_label: str = "rx",
    ) -> None:
        self.frames = FrameReader(reader, max_frame)
        self.writer = writer
        self.max_frame = max_frame
        self.trace = trace
        self.tx_label, self.rx_label = tx_label, rx_label
        self._next_id = 1
        self._send_lock = asyncio.Lock()
        self.version = HELLO_VERSION  # until HelloAck chooses one
        self.peer_max_frame = max_frame  # what the peer accepts (a device says in Hello)

    def next_id(self) -> int:
        msg_id = self._next_id
        self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        return msg_id

    async def send(self, message: Message, reply_to: int | None = None) -> int:
        """Send a message (echoing `reply_to` as its id when it answers a request)."""
        msg_id = reply_to if reply_to is not None else self.next_id()
        data = frame(encode(message, msg_id, self.version), self.peer_max_frame)
        async with self._send_lock:
            self.writer.write(data)
            await self.writer.drain()
        if self.trace:
            self.trace(self.tx_label, Envelope(message, msg_id, self.version))
        return msg_id

    async def receive(self) -> Envelope | None:
        """The next envelope, or None at a clean end of stream. Raises ProtocolError."""
        payload = await self.frames.read()
        if payload is None:
            return None
        env = decode(payload)
        if self.trace:
            self.trace(self.rx_label, env)
        return env

    def abort(self) -> None:
        """Drop the connection at once (shutting down: no TLS goodbye to wait for)."""
        self.writer.transport.abort()

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        except (TimeoutError, OSError, ConnectionError):
            pass
