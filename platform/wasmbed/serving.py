"""Shared plumbing for our HTTP services: bind first (port 0 = ephemeral), serve with
uvicorn on that socket, announce the real URLs in a ready file, stop on SIGTERM/SIGINT.
Who may call them is the RequestGuard's business (wasmbed.request_guard).

The ready file is how the harness (and `wasmbed up`) learn ports without races: it is
written atomically only once every listener is accepting.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import socket
from pathlib import Path
from typing import Any

import uvicorn


def bind(host: str, port: int) -> socket.socket:
    sock = socket.create_server((host, port), backlog=2048)
    sock.setblocking(False)
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now, for programs that cannot bind port 0 and report it (etcd,
    kube-apiserver, a Renode script's socket terminals). Prefer `bind(host, 0)` otherwise."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def url_of(sock: socket.socket, scheme: str = "http") -> str:
    host, port = sock.getsockname()[:2]
    return f"{scheme}://{host}:{port}"


async def start_uvicorn(app: Any, sock: socket.socket) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            ws_ping_interval=20)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task


def write_ready(path: Path | None, info: dict[str, Any]) -> None:
    if path is None:
        return
    info = {**info, "pid": os.getpid()}
    tmp = Path(f"{path}.tmp")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, path)


async def wait_for_shutdown_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def raise_open_files_limit() -> int:
    """Lift the soft limit on open files to the hard one (a gateway holds a socket per
    device, and the default soft limit of 1024 is far below a fleet); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard
