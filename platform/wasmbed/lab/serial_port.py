"""Serial ports through pyserial: a local tty (USB-serial adapter, CDC) or a network serial
port (rfc2217://host:port, as ser2net serves one). A blocking channel feeds a board's
Console; an asyncio pair feeds the bridge's relay."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import serial

POLL = 0.1  # s: how often a blocked read looks at whether it was closed


def open_port(url: str, baud: int) -> serial.SerialBase:
    """The port, opened; a clear error when it is absent or refused."""
    try:
        # pyserial's rfc2217 client has no write timeout (its socket bounds the writes)
        extra = {} if "://" in url else {"write_timeout": 10}
        return serial.serial_for_url(url, baudrate=baud, timeout=POLL, **extra)
    except (serial.SerialException, ValueError) as exc:
        hint = ("is ser2net serving it? (rfc2217 servers that cannot set modem lines on the "
                "port need `?ign_set_control`)" if url.startswith("rfc2217://")
                else "is the adapter plugged in, and is the user in the dialout group?")
        raise ConnectionError(f"cannot open serial port {url}: {exc}; {hint}") from None


def read_some(port: serial.SerialBase) -> bytes:
    """What has arrived (at least one byte), or b"" after POLL seconds of silence."""
    first = port.read(1)
    if not first:
        return b""
    waiting = port.in_waiting
    return first + (port.read(waiting) if waiting else b"")


class SerialChannel:
    """A serial port as the Console's byte channel: recv() blocks until bytes arrive and
    returns b"" only once the channel is closed or the port is gone (then `error` says
    why)."""

    def __init__(self, url: str, baud: int) -> None:
        self.url = url
        self.port = open_port(url, baud)
        self.port.reset_input_buffer()  # what waited in the tty before we came is stale
        self._closed = threading.Event()
        self.error: Exception | None = None

    def recv(self, _size: int) -> bytes:
        while not self._closed.is_set():
            try:
                data = read_some(self.port)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                if not self._closed.is_set():  # not closed under us: the adapter went away
                    self.error = exc
                return b""
            if data:
                return data
        return b""

    def send(self, data: bytes) -> None:
        self.port.write(data)

    def close(self) -> None:
        self._closed.set()
        try:
            self.port.close()
        except (serial.SerialException, OSError):
            pass


class SerialStreamWriter:
    """The part of asyncio.StreamWriter the relay uses, over a serial channel."""

    def __init__(self, channel: SerialChannel) -> None:
        self._channel = channel
        self._pending = bytearray()

    def write(self, data: bytes) -> None:
        self._pending += data

    async def drain(self) -> None:
        data, self._pending = bytes(self._pending), bytearray()
        if data:
            try:
                await asyncio.to_thread(self._channel.send, data)
            except (serial.SerialException, OSError) as exc:
                raise ConnectionError(f"serial port write failed: {exc}") from exc

    def close(self) -> None:
        self._channel.close()


async def open_serial_stream(url: str, baud: int) \
        -> tuple[asyncio.StreamReader, SerialStreamWriter]:
    """An asyncio reader/writer over a serial channel; a thread reads it (pyserial is
    blocking, and rfc2217 has no file descriptor to poll)."""
    channel = await asyncio.to_thread(SerialChannel, url, baud)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()

    def deliver(call: Any, *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed first: nobody listens
            loop.call_soon_threadsafe(call, *args)

    def pump() -> None:
        while data := channel.recv(4096):
            deliver(reader.feed_data, data)
        if channel.error is not None:
            deliver(reader.set_exception,
                    ConnectionError(f"serial port {url} lost: {channel.error}"))
        else:
            deliver(reader.feed_eof)

    threading.Thread(target=pump, daemon=True, name=f"serial {url}").start()
    return reader, SerialStreamWriter(channel)
