"""Unit-test helpers for the platform's tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from wasmbed.api.app import release
from wasmbed.api.main import ApiConfig, ApiServer


class EndpointRecorder(ThreadingHTTPServer):
    """An HTTP endpoint that answers as a gateway named `name` would, and records every
    request it gets (method, path, headers): a stand-in for what a registered gateway
    endpoint sees."""

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.name = name
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: EndpointRecorder

    def _answer(self) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        body: dict[str, object] = {"status": "ready"}
        if self.path == "/api/v1/identity":
            body = {"name": self.server.name}
        data = json.dumps(body).encode()
        self.send_response(200 if self.command == "GET" else 202)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway_endpoint() -> Iterator[Callable[..., str]]:
    """Factory: gateway_endpoint(name) -> the URL of a recording endpoint answering as
    gateway `name`; `gateway_endpoint.servers[name].requests` is what it received."""
    servers: dict[str, EndpointRecorder] = {}

    def start(name: str) -> str:
        server = EndpointRecorder(name)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
        return server.url

    start.servers = servers  # type: ignore[attr-defined]
    yield start
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture
def server(tmp_path):
    """An API server (not started: driven in process through its ASGI app) on a fresh data
    dir and embedded store. Its FastAPI app goes on to the next test's server: building
    one costs ~0.15 s of CPU (no test changes an app's routes or middleware)."""
    srv = ApiServer(ApiConfig(tmp_path / "api"))
    yield srv
    release(srv.app)


@pytest.fixture
def client(server):
    """A TestClient of `server` sending the admin token."""
    with TestClient(server.app) as c:
        c.headers["Authorization"] = f"Bearer {server.token}"
        c.app_state_dir = server.config.data_dir
        yield c
