"""How the control plane drives gateways over their HTTP API.

Each gateway is called with its own credential (derived from the gateway key), and only at
the endpoint that gateway registered: no request ever carries the admin token, so an
endpoint that is not a gateway learns nothing it could use elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from wasmbed import http_keepalive
from wasmbed.credentials import GatewayKey
from wasmbed.http_trust import default_trust


class GatewayUnavailable(Exception):
    pass


class GatewayRefused(Exception):
    """The gateway answered 4xx: the request itself is wrong (e.g. invalid module)."""


@dataclass(frozen=True)
class GatewayRef:
    name: str
    endpoint: str  # its HTTP API base URL, as registered


class GatewayClient:
    def __init__(self, key: GatewayKey) -> None:
        self.key = key
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0),
                                      verify=default_trust(), limits=http_keepalive.limits(),
                                      follow_redirects=False)

    async def close(self) -> None:
        await self.http.aclose()

    def _auth(self, gw: GatewayRef) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key.token(gw.name)}"}

    async def _post(self, gw: GatewayRef, path: str, body: dict[str, Any] | None = None,
                    params: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            resp = await self.http.post(f"{gw.endpoint}{path}", json=body, params=params,
                                        headers=self._auth(gw))
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise GatewayUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if 400 <= resp.status_code < 500:
            try:
                detail = resp.json()
            except ValueError:
                detail = resp.text
            message = detail.get("message", detail) if isinstance(detail, dict) else detail
            raise GatewayRefused(str(message))
        if resp.status_code >= 300:
            raise GatewayUnavailable(f"gateway answered {resp.status_code}")
        return resp.json()

    async def deploy(self, gw: GatewayRef, device: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._post(gw, f"/api/v1/devices/{device}/deploy", body)

    async def stop(self, gw: GatewayRef, device: str, module_id: str, app: str) -> None:
        await self._post(gw, f"/api/v1/devices/{device}/stop/{module_id}", params={
            "app_name": app})

    async def refresh_trust(self, gw: GatewayRef) -> None:
        await self._post(gw, "/api/v1/pki/refresh")

    async def identity(self, gw: GatewayRef) -> str | None:
        """The name the gateway at this endpoint answers to, when it holds this gateway's
        credential (how a registration's endpoint is checked); None otherwise."""
        try:
            resp = await self.http.get(f"{gw.endpoint}/api/v1/identity", headers=self._auth(gw),
                                       timeout=5.0)
            return str(resp.json()["name"]) if resp.status_code == 200 else None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, KeyError, TypeError):
            return None

    async def health(self, gw: GatewayRef) -> dict[str, Any] | None:
        """The gateway's own readiness answer (an unauthenticated probe), or None when it
        does not answer."""
        try:
            resp = await self.http.get(f"{gw.endpoint}/ready", timeout=3.0)
            body = resp.json() if resp.headers.get("content-type", "").startswith(
                "application/json") else None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError):
            return None
        return body if isinstance(body, dict) else {"status": resp.status_code}
