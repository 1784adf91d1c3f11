"""The whole platform in one process on the embedded store (`wasmbed up`, `wasmbed demo`):
API server + controllers + one gateway, sharing one data directory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from wasmbed.api.main import ApiConfig, ApiServer
from wasmbed.gateway.config import GatewayConfig
from wasmbed.gateway.main import GatewayService

STATE_FILE = "up.json"


@dataclass
class StackConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    api_port: int = 8080
    tls_port: int = 40029
    gateway_http_port: int = 8081
    gateway_name: str = "gateway-0"
    heartbeat_interval: int = 30
    pairing_seconds: float = 0.0
    firmware_dir: Path | None = None  # built firmware for emulated boards (firmware/build)


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.api = ApiServer(ApiConfig(config.data_dir / "api", config.host, config.api_port,
                                       pairing_seconds=config.pairing_seconds,
                                       firmware_dir=config.firmware_dir))

    async def start(self) -> dict[str, object]:
        c = self.config
        api_url = await self.api.start()
        ident = self.api.pki.gateway_identity(c.gateway_name, (c.host,))
        cert, key = ident.save(c.data_dir / "gateway", "identity")
        self.gateway = GatewayService(GatewayConfig(
            name=c.gateway_name, api_url=api_url,
            token=self.api.credentials.gateways.token(c.gateway_name), cert_file=cert,
            key_file=key, data_dir=c.data_dir / "gateway", host=c.host, tls_port=c.tls_port,
            http_port=c.gateway_http_port, heartbeat_interval=c.heartbeat_interval))
        gw = await self.gateway.start()
        self.info = {"api": api_url, "tokenFile": str((c.data_dir / "api" / "token").resolve()),
                     "pkiDir": str(c.data_dir / "api" / "pki"), "gateway": gw}
        (c.data_dir / STATE_FILE).write_text(json.dumps(self.info, indent=2))
        return self.info

    async def stop(self) -> None:
        await self.gateway.stop()
        await self.api.stop()
        (self.config.data_dir / STATE_FILE).unlink(missing_ok=True)
