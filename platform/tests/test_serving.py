"""Our listening sockets: what every service accepts connections with."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from wasmbed.serving import bind, free_port


def test_accepted_connections_send_small_writes_at_once() -> None:
    """A connection accepted on `bind()` has Nagle off. asyncio turns it off only for
    sockets whose protocol is IPPROTO_TCP, and `socket.create_server` leaves it 0: with
    Nagle on, every keep-alive HTTP request after the first waited ~40 ms for a delayed
    ACK (uvicorn writes a response's head and body separately)."""

    async def accept_one() -> int:
        sock = bind("127.0.0.1", 0)
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            s = writer.get_extra_info("socket")
            accepted.set_result(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            nodelay = await asyncio.wait_for(accepted, 5)
            writer.close()
        return nodelay

    assert asyncio.run(accept_one()) == 1


def test_a_free_port_is_outside_the_kernels_ephemeral_range() -> None:
    """A port handed to a program that binds it later (Renode's socket terminals, etcd)
    must not be one the kernel can give away in the meantime: every bind(0) and every
    outgoing connection of every process on the machine draws from the ephemeral range.
    Found as 'Address already in use' for a Robot suite's link port under `./run test`."""
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = [free_port() for _ in range(200)]
    assert not [p for p in ports if low <= p <= high], (low, high)
    assert len(set(ports)) == len(ports), "a port was handed out twice"
    for port in ports[:20]:
        with socket.create_server(("127.0.0.1", port)):
            pass  # and it is free
