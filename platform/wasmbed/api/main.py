"""`wasmbed api`: the API server with its controllers, on the embedded store."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from wasmbed.api.app import build_app
from wasmbed.api.context import ApiContext
from wasmbed.controllers import ApplicationController, DeviceController, GatewayController
from wasmbed.controllers.gateway_client import GatewayClient
from wasmbed.pki import PkiLayout
from wasmbed.serving import (
    bind,
    load_or_create_token,
    start_uvicorn,
    url_of,
    wait_for_shutdown_signal,
    write_ready,
)
from wasmbed.store import EmbeddedStore

log = logging.getLogger("wasmbed.api")


@dataclass
class ApiConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    pairing_seconds: float = 0.0  # >0: start with pairing mode on for that long
    cert_lifetime_s: float = 365 * 86400.0


class ApiServer:
    """API + controllers; `start()` returns once the socket accepts, `stop()` cleans up."""

    def __init__(self, config: ApiConfig) -> None:
        self.config = config
        data = config.data_dir
        data.mkdir(parents=True, exist_ok=True)
        self.token, self.token_created = load_or_create_token(data / "token")
        self.pki = PkiLayout(data / "pki").init()
        self.store = EmbeddedStore(data / "store.sqlite")
        self.gateways = GatewayClient(self.token)
        self.ctx = ApiContext(self.store, self.pki, self.token, self.gateways,
                              cert_lifetime_s=config.cert_lifetime_s)
        if config.pairing_seconds > 0:
            self.ctx.pairing.set(True, config.pairing_seconds)
        self.controllers = [DeviceController(self.store), GatewayController(self.store),
                            ApplicationController(self.store, self.gateways)]

    async def start(self) -> str:
        sock = bind(self.config.host, self.config.port)
        self.url = url_of(sock)
        self.server, self.task = await start_uvicorn(build_app(self.ctx), sock)
        for c in self.controllers:
            c.start()
        return self.url

    async def stop(self) -> None:
        for c in self.controllers:
            await c.stop()
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            await self.task
        await self.gateways.close()
        await self.store.close()


async def run_api(config: ApiConfig, ready_file: Path | None = None) -> None:
    server = ApiServer(config)
    url = await server.start()
    if server.token_created:
        Console(stderr=True).print(
            f"[bold]API token[/] (shown once; stored 0600 in {config.data_dir / 'token'}): "
            f"{server.token}")
    write_ready(ready_file, {"url": url, "tokenFile": str(config.data_dir / "token"),
                             "pkiDir": str(config.data_dir / "pki")})
    log.info("API server on %s (docs at %s/docs)", url, url)
    try:
        await wait_for_shutdown_signal()
    finally:
        await server.stop()
