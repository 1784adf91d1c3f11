"""The gateway: TLS 1.3 mutual-auth device server, enrollment relay, heartbeats,
chunked resumable deployments, a local cache that survives restarts, and an HTTP API."""

from wasmbed.gateway.config import GatewayConfig
from wasmbed.gateway.server import Gateway

__all__ = ["Gateway", "GatewayConfig"]
