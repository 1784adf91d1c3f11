"""The gateway's settings (the `wasmbed gateway` options), checked when made."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wasmbed.protocol.framing import max_chunk_data


@dataclass
class GatewayConfig:
    name: str
    api_url: str
    token: str
    cert_file: Path
    key_file: Path
    data_dir: Path
    host: str = "127.0.0.1"
    tls_port: int = 40029
    http_port: int = 8081
    heartbeat_interval: int = 30
    missed_heartbeats: int = 3
    chunk_size: int = 1024
    max_handshakes: int = 64  # concurrent: a reconnect storm cannot starve heartbeats
    handshake_timeout: float = 10.0  # from ClientHello to a finished handshake
    hello_timeout: float = 5.0  # from connect to a complete ClientHello
    max_pending: int = 4096  # connections without a ClientHello yet; the oldest go first
    max_pending_per_source: int = 256  # past it, the oldest that waited pending_grace go
    pending_grace: float = 1.0
    trust_refresh: float = 10.0
    max_frame: int = 64 * 1024
    advertise_url: str | None = None  # the HTTP API URL the API should call (default: bound)
    advertise_tls: str | None = None  # host:port devices are told (default: bound)

    def __post_init__(self) -> None:
        largest = max_chunk_data(self.max_frame, "x" * 64, 2)
        if not 1 <= self.chunk_size <= largest:
            raise ValueError(f"chunk-size {self.chunk_size}: a chunk must fit a frame of "
                             f"{self.max_frame} bytes; use 1 to {largest} (devices that "
                             "announce a smaller frame get smaller chunks)")

    @property
    def heartbeat_timeout(self) -> float:
        return float(self.heartbeat_interval * self.missed_heartbeats)
