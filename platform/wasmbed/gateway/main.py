"""`wasmbed gateway`: one gateway (TLS device server + HTTP API) until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import IO

from wasmbed.gateway.config import GatewayConfig
from wasmbed.gateway.http import build_gateway_app
from wasmbed.gateway.server import Gateway
from wasmbed.protocol.link import JsonlTrace
from wasmbed.reports import GatewayStatus
from wasmbed.serving import (
    bind,
    raise_open_files_limit,
    start_uvicorn,
    tune_gc_for_many_connections,
    url_of,
    wait_for_shutdown_signal,
    write_ready,
)

log = logging.getLogger("wasmbed.gateway")
STATUS_INTERVAL = 2.0


class GatewayService:
    def __init__(self, config: GatewayConfig, trace_file: Path | None = None) -> None:
        self.config = config
        self._trace_fp: IO[str] | None = trace_file.open("a") if trace_file else None
        self.gw = Gateway(config, trace=JsonlTrace(self._trace_fp) if self._trace_fp else None)

    async def _status_loop(self) -> None:
        """The gateway's own heartbeat to the API (the Gateway resource's health)."""
        while True:
            self.gw.control.post(GatewayStatus(connectedDevices=len(self.gw.sessions),
                                               pendingOps=self.gw.cache.pending_count()))
            await asyncio.sleep(STATUS_INTERVAL)

    async def start(self) -> dict[str, object]:
        await self.gw.start()
        sock = bind(self.config.host, self.config.http_port)
        self.http_url = url_of(sock)
        self.http = await start_uvicorn(build_gateway_app(self.gw, self.config.token), sock)
        await self.gw.register(self.http_url)
        self.status = asyncio.create_task(self._status_loop())
        return {"name": self.config.name, "http": self.http_url,
                "tls": f"{self.config.host}:{self.gw.tls_port}", "tlsPort": self.gw.tls_port}

    async def stop(self) -> None:
        self.status.cancel()
        await self.http.stop()
        await self.gw.stop()
        if self._trace_fp:
            self._trace_fp.close()


async def run_gateway(config: GatewayConfig, ready_file: Path | None = None,
                      trace_file: Path | None = None) -> None:
    raise_open_files_limit()
    tune_gc_for_many_connections()
    service = GatewayService(config, trace_file)
    info = await service.start()
    write_ready(ready_file, info)
    log.info("gateway %s: devices on %s, HTTP API on %s", config.name, info["tls"], info["http"])
    try:
        await wait_for_shutdown_signal()
    finally:
        await service.stop()
