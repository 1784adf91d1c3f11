"""Who may call whom: the operator's admin token, and one credential per gateway.

Gateways never hold the admin token. Each gateway has its own bearer token,
`gw1.<name>.<mac>`, where the MAC is HMAC-SHA256 over the gateway's name under a key only the
API server and the controllers hold (`gateway-key` in the API data dir). The API can
therefore check any gateway's token, and the controllers can present a gateway's own token
when they call that gateway, without a table of secrets to store or replicate. A gateway
token opens only the gateway-protocol routes, and only for its own name: a stolen gateway
token speaks for one gateway, never for the fleet.

Rotating `gateway-key` invalidates every gateway token at once (issue new ones with
`wasmbed gateway-token NAME`); rotating `token` changes the admin token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wasmbed.pki.ca import write_secret

TOKEN_FILE = "token"
GATEWAY_KEY_FILE = "gateway-key"
_PREFIX = "gw1."
_CONTEXT = b"wasmbed gateway token v1\x00"


@dataclass(frozen=True)
class Principal:
    kind: Literal["admin", "gateway", "controlplane"]
    gateway: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"


ADMIN = Principal("admin")


def load_or_create_secret(path: Path) -> tuple[str, bool]:
    """The secret at `path` (0600), generated on first use. Returns (secret, created)."""
    if path.exists():
        return path.read_text().strip(), False
    value = secrets.token_urlsafe(32)
    write_secret(path, value.encode())
    return value, True


class GatewayKey:
    """Derives and checks gateway tokens (the controllers need only this half)."""

    def __init__(self, key: str) -> None:
        self._key = key.encode()

    @classmethod
    def load(cls, path: Path) -> GatewayKey:
        return cls(load_or_create_secret(path)[0])

    def token(self, gateway: str) -> str:
        mac = hmac.new(self._key, _CONTEXT + gateway.encode(), hashlib.sha256).digest()
        return f"{_PREFIX}{gateway}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    def gateway_of(self, token: str) -> str | None:
        """The gateway a token was issued to, if it is genuine."""
        if not token.startswith(_PREFIX) or "." not in token[len(_PREFIX):]:
            return None
        name = token[len(_PREFIX):].rsplit(".", 1)[0]
        return name if name and hmac.compare_digest(token, self.token(name)) else None


class Credentials:
    """The API server's view: the admin token and the gateway key."""

    def __init__(self, admin_token: str, gateway_key: GatewayKey) -> None:
        self.admin_token = admin_token
        self.gateways = gateway_key

    @classmethod
    def load(cls, data_dir: Path) -> tuple[Credentials, bool]:
        """From the API data dir, creating what is missing; (credentials, token created)."""
        token, created = load_or_create_secret(data_dir / TOKEN_FILE)
        return cls(token, GatewayKey.load(data_dir / GATEWAY_KEY_FILE)), created

    def principal(self, token: str | None) -> Principal | None:
        if not token:
            return None
        if secrets.compare_digest(token.encode(), self.admin_token.encode()):
            return ADMIN
        gateway = self.gateways.gateway_of(token)
        return Principal("gateway", gateway) if gateway else None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
