"""Hostile clients for security scenarios and benchmarks: a huge HTTP body pushed at a
server, and a flood of TCP connections that never finish (or never start) a TLS handshake.
Loopback only."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

MiB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    """Resident memory of a process."""
    import psutil

    return int(psutil.Process(pid).memory_info().rss)


class BodyPusher(threading.Thread):
    """Sends a request head announcing `size` body bytes, then pushes body bytes until the
    server stops taking them. `answer` holds the start of the server's reply, `pushed` what
    the server let through."""

    def __init__(self, url: str, path: str, size: int, token: str | None = None) -> None:
        super().__init__(daemon=True)
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)))
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n"
                          f"Content-Type: application/json\r\n{auth}"
                          f"Content-Length: {size}\r\n\r\n".encode())
        self.size, self.pushed, self.answer = size, 0, b""

    def run(self) -> None:
        chunk = b"x" * MiB
        self.sock.settimeout(10)
        try:
            while self.pushed < self.size:
                self.sock.sendall(chunk)
                self.pushed += len(chunk)
        except OSError:
            pass  # the server closed the connection: it will not read the rest
        with contextlib.suppress(OSError):
            self.answer = self.sock.recv(4096)
        self.sock.close()


@contextlib.contextmanager
def idle_connections(address: tuple[str, int], idle: int, stalled: int = 0) \
        -> Iterator[list[socket.socket]]:
    """`idle` connections that send nothing and `stalled` ones that send the first bytes
    of a TLS record and stop; all held open until the block ends."""
    socks: list[socket.socket] = []
    try:
        for i in range(idle + stalled):
            s = socket.create_connection(address, timeout=5)
            if i >= idle:
                s.sendall(b"\x16\x03\x01")
            socks.append(s)
        yield socks
    finally:
        for s in socks:
            s.close()
