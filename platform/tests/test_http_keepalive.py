"""Idle keep-alive connections between our HTTP clients and our uvicorn servers: the client
lets go first, so no request is sent on a connection the server is closing."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from wasmbed import http_keepalive
from wasmbed.rest_client import ApiClient
from wasmbed.serving import bind, start_uvicorn

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            b"Connection: keep-alive\r\n\r\n{}")


@pytest.fixture
def server_closing_on_reuse() -> Iterator[tuple[str, list[int]]]:
    """Answers the first request of each connection; a second request on the same
    connection is the one that meets the server's idle close: the connection closes with
    no answer, as uvicorn's does when its keep-alive timeout and the request cross."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[int] = []  # requests per connection

    def serve(conn: socket.socket) -> None:
        with conn:
            requests = 0
            while conn.recv(65536):
                requests += 1
                if requests > 1:
                    break  # closed without an answer
                conn.sendall(RESPONSE)
            seen.append(requests)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    listener.close()


def test_an_idle_connection_is_not_reused_once_the_client_let_it_go(
        server_closing_on_reuse: tuple[str, list[int]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault scenario watched a board's console for 5 s, then asked the API for the
    device: "Server disconnected without sending a response" (httpx and uvicorn both kept
    an idle connection 5 s)."""
    monkeypatch.setattr(http_keepalive, "CLIENT_IDLE_S", 0.2)
    url, _ = server_closing_on_reuse
    client = ApiClient(url, "token")
    try:
        assert client.request("GET", "/one") == {}
        time.sleep(0.5)  # the input under test: the connection idles past the client's limit
        assert client.request("GET", "/two") == {}
    finally:
        client.close()


def test_our_servers_keep_an_idle_connection_longer_than_our_clients() -> None:
    async def served_idle_s() -> int:
        async def app(scope: object, receive: object, send: object) -> None:
            raise AssertionError("no request is made")

        service = await start_uvicorn(app, bind("127.0.0.1", 0))
        try:
            return service.server.config.timeout_keep_alive
        finally:
            await service.stop()

    assert asyncio.run(served_idle_s()) == http_keepalive.SERVER_IDLE_S
    assert http_keepalive.CLIENT_IDLE_S + 2 <= http_keepalive.SERVER_IDLE_S
    assert http_keepalive.limits().keepalive_expiry == http_keepalive.CLIENT_IDLE_S
