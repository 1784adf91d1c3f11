"""What the API server's routes share: store, PKI, credentials, pairing mode, gateway client."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from wasmbed.api.events import DeviceEvents
from wasmbed.credentials import Credentials
from wasmbed.gateway_client import GatewayClient
from wasmbed.pki import PkiLayout
from wasmbed.store import Store


@dataclass
class PairingMode:
    """Enrollment of unknown devices is allowed only while this is on (with a deadline)."""

    until: float = 0.0

    @property
    def enabled(self) -> bool:
        return time.time() < self.until

    def set(self, enabled: bool, timeout_s: float) -> None:
        self.until = time.time() + timeout_s if enabled else 0.0

    def as_dict(self) -> dict[str, object]:
        remaining = max(0.0, self.until - time.time())
        return {"enabled": self.enabled, "remainingSeconds": round(remaining, 1)}


@dataclass
class ApiContext:
    store: Store
    pki: PkiLayout
    credentials: Credentials
    gateways: GatewayClient
    pairing: PairingMode = field(default_factory=PairingMode)
    events: DeviceEvents = field(default_factory=DeviceEvents)
    cert_lifetime_s: float = 365 * 86400.0
    watches: set[Any] = field(default_factory=set)  # open watch WebSockets

    @property
    def token(self) -> str:
        return self.credentials.admin_token
