"""`wasmbed api`: the API server with its controllers, on the embedded or Kubernetes store."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from wasmbed.api.app import new_app
from wasmbed.api.context import ApiContext
from wasmbed.api.emulated_boards import BoardManager
from wasmbed.api.routes.watch import close_watches
from wasmbed.controllers.runner import ControllerSet
from wasmbed.credentials import Credentials
from wasmbed.gateway_client import GatewayClient
from wasmbed.pki import PkiLayout
from wasmbed.serving import (
    bind,
    start_uvicorn,
    tune_gc_for_many_connections,
    url_of,
    wait_for_shutdown_signal,
    write_ready,
)
from wasmbed.store import EmbeddedStore, Store
from wasmbed.store.opening import StoreConfig, open_store

log = logging.getLogger("wasmbed.api")


@dataclass
class ApiConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    pairing_seconds: float = 0.0  # >0: start with pairing mode on for that long
    cert_lifetime_s: float = 365 * 86400.0
    store: StoreConfig = field(default_factory=StoreConfig)
    controllers: bool = True  # False: they run elsewhere (`wasmbed controller`)
    firmware_dir: Path | None = None  # built firmware for emulated boards (firmware/build)


class ApiServer:
    """API + controllers; `start()` returns once the socket accepts, `stop()` cleans up.
    `store` is an already opened store (Kubernetes); by default the embedded one."""

    def __init__(self, config: ApiConfig, store: Store | None = None) -> None:
        self.config = config
        data = config.data_dir
        data.mkdir(parents=True, exist_ok=True)
        self.credentials, self.token_created = Credentials.load(data)
        self.token = self.credentials.admin_token
        self.pki = PkiLayout(data / "pki").init()
        self.store = store or EmbeddedStore(data / "store.sqlite")
        self.gateways = GatewayClient(self.credentials.gateways)
        self.ctx = ApiContext(self.store, self.pki, self.credentials, self.gateways,
                              cert_lifetime_s=config.cert_lifetime_s)
        self.boards = BoardManager(self.ctx, data / "boards", config.firmware_dir)
        self.app = new_app(self.ctx, self.boards)
        if config.pairing_seconds > 0:
            self.ctx.pairing.set(True, config.pairing_seconds)
        self.controllers = ControllerSet(self.store, self.gateways) if config.controllers \
            else None

    async def start(self) -> str:
        sock = bind(self.config.host, self.config.port)
        self.url = url_of(sock)
        self.http = await start_uvicorn(self.app, sock)
        if self.controllers:
            self.controllers.start()
        return self.url

    async def stop(self) -> None:
        await close_watches(self.ctx)
        await self.boards.close()
        if self.controllers:
            await self.controllers.stop()
        await self.http.stop()
        await self.gateways.close()
        await self.store.close()


async def run_api(config: ApiConfig, ready_file: Path | None = None) -> None:
    tune_gc_for_many_connections()
    store = None if config.store.backend == "embedded" else \
        await open_store(config.store, config.data_dir)
    server = ApiServer(config, store)
    url = await server.start()
    if server.token_created:
        Console(stderr=True).print(
            f"[bold]API token[/] (shown once; stored 0600 in {config.data_dir / 'token'}): "
            f"{server.token}")
    write_ready(ready_file, {"url": url, "tokenFile": str(config.data_dir / "token"),
                             "pkiDir": str(config.data_dir / "pki"),
                             "store": config.store.backend,
                             "namespace": getattr(server.store, "namespace", None)})
    log.info("API server on %s (docs at %s/docs)", url, url)
    try:
        await wait_for_shutdown_signal()
    finally:
        await server.stop()
