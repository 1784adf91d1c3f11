"""How the control plane drives gateways over their HTTP API."""

from __future__ import annotations

from typing import Any

import httpx


class GatewayUnavailable(Exception):
    pass


class GatewayRefused(Exception):
    """The gateway answered 4xx: the request itself is wrong (e.g. invalid module)."""


class GatewayClient:
    def __init__(self, token: str) -> None:
        self.http = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                                      timeout=httpx.Timeout(10.0, connect=3.0))

    async def close(self) -> None:
        await self.http.aclose()

    async def _post(self, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            resp = await self.http.post(url, json=body)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise GatewayUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if 400 <= resp.status_code < 500:
            detail = resp.json().get("detail", resp.text)
            message = detail.get("message", detail) if isinstance(detail, dict) else detail
            raise GatewayRefused(str(message))
        if resp.status_code >= 500:
            raise GatewayUnavailable(f"gateway answered {resp.status_code}")
        return resp.json()

    async def deploy(self, endpoint: str, device: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._post(f"{endpoint}/api/v1/devices/{device}/deploy", body)

    async def stop(self, endpoint: str, device: str, module_id: str, app: str) -> None:
        await self._post(f"{endpoint}/api/v1/devices/{device}/stop/{module_id}?app_name={app}")

    async def refresh_trust(self, endpoint: str) -> None:
        await self._post(f"{endpoint}/api/v1/pki/refresh")

    async def health(self, endpoint: str) -> dict[str, Any] | None:
        """The gateway's own readiness answer, or None when it does not answer."""
        try:
            resp = await self.http.get(f"{endpoint}/ready", timeout=3.0)
            return resp.json() if resp.headers.get("content-type", "").startswith(
                "application/json") else {"status": resp.status_code}
        except (httpx.HTTPError, httpx.InvalidURL, ValueError):
            return None
