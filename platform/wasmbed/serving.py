"""Shared plumbing for our HTTP services: bind first (port 0 = ephemeral), serve with
uvicorn on that socket, announce the real URLs in a ready file, stop on SIGTERM/SIGINT.
Who may call them is the RequestGuard's business (wasmbed.request_guard).

The ready file is how the harness (and `wasmbed up`) learn ports without races: it is
written atomically only once every listener is accepting.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import secrets
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from wasmbed import http_keepalive


def bind(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A listening TCP socket whose accepted connections have Nagle off.

    asyncio disables Nagle only on sockets whose protocol number is IPPROTO_TCP, and
    `socket.create_server` leaves it 0, so without the re-wrap below every keep-alive HTTP
    request after the first waited ~40 ms for a delayed ACK."""
    made = socket.create_server((host, port), backlog=backlog)
    sock = socket.socket(made.family, made.type, socket.IPPROTO_TCP, fileno=made.detach())
    sock.setblocking(False)
    return sock


_FIXED_PORTS_FROM = 20000  # below: ports other software on the machine tends to claim
_handed_out: set[int] = set()


def _fixed_port_bands() -> list[range]:
    """Ports the kernel never picks by itself: outside its ephemeral range."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return []
    return [b for b in (range(_FIXED_PORTS_FROM, low), range(high + 1, 65536)) if len(b)]


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now, for programs that cannot bind port 0 and report it (etcd,
    kube-apiserver, a Renode script's socket terminals). Prefer `bind(host, 0)` otherwise.

    It is drawn at random from outside the kernel's ephemeral range, and never twice by one
    process: between now and the program's bind, any bind(0) or outgoing connection on the
    machine may take an ephemeral port (seen under `./run test` as 'Address already in use'
    for a Robot suite's link port); a fixed one is only at risk from another caller of this,
    1 in thousands. Random from the OS, not `random`, which test plugins reseed alike in
    every worker."""
    bands = _fixed_port_bands()
    rng = secrets.SystemRandom()
    for _ in range(64 if bands else 0):
        band = rng.choices(bands, weights=[len(b) for b in bands])[0]
        port = rng.choice(band)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue  # someone's
        _handed_out.add(port)
        return port
    with socket.socket() as s:  # no fixed band on this machine, or all tries taken
        s.bind((host, 0))
        return int(s.getsockname()[1])


def url_of(sock: socket.socket, scheme: str = "http") -> str:
    host, port = sock.getsockname()[:2]
    return f"{scheme}://{host}:{port}"


GRACEFUL_STOP_S = 5.0  # requests in flight get this long to finish when a service stops


class _PromptServer(uvicorn.Server):
    """uvicorn's Server, minus its fixed waits: it checks for an exit request every 0.1 s,
    then sleeps 0.1 s, then polls every 0.1 s for connections to close. A test stack stops
    a few servers per test, so those waits were most of a scenario's tear-down; here an exit
    request wakes the loop at once and the drain is polled every few milliseconds, with the
    same bound on requests in flight."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.exit_requested = asyncio.Event()

    async def main_loop(self) -> None:
        while not await self.on_tick(0):  # tick 0 refreshes the Date header each time
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.exit_requested.wait(), 1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle ones close now, busy ones after their response
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GRACEFUL_STOP_S
        state = self.server_state
        while (state.connections or state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.005)  # connections leave this set as they close
        for task in list(state.tasks):
            task.cancel()


@dataclass
class HttpService:
    """A uvicorn server running on our socket; `stop()` returns once it has."""

    server: _PromptServer
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        self.server.exit_requested.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await self.task


async def start_uvicorn(app: Any, sock: socket.socket) -> HttpService:
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            ws_ping_interval=20, timeout_keep_alive=http_keepalive.SERVER_IDLE_S)
    server = _PromptServer(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return HttpService(server, task)


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


GC_THRESHOLDS = (20_000, 50, 100)  # Python's default is (700, 10, 10)


def tune_gc_for_many_connections() -> None:
    """Collect young garbage less often and old garbage seldom. A process holding thousands
    of sessions keeps millions of long-lived objects, and each full collection scans them
    all, finding next to nothing: at 10,000 devices the gateway made 25 full collections of
    up to 1.3 s each (0.6 s in a device simulator, 0.3 s in the API), every one a pause for
    every session, which is what the heartbeat p99 measured. With these thresholds it made
    one of 0.2 s. Garbage in cycles still goes, later. The cost left: CPython counts
    allocations minus frees, so objects that live one heartbeat interval (each session's
    waiting receive chain) pile up in the young generation beyond the threshold, and at
    10,000 devices its collections take 130-175 ms every ~10 s; a threshold of 2,000 made
    them 20-30 ms but moved the pause to generation 1 (240-330 ms), p99 unchanged."""
    gc.set_threshold(*GC_THRESHOLDS)


def raise_open_files_limit() -> int:
    """Lift the soft limit on open files to the hard one (a gateway holds a socket per
    device, and the default soft limit of 1024 is far below a fleet); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard
