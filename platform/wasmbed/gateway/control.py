"""The gateway's link to the API server: registration, enrollment, trust, reports.

Reports go through the cache's outbox and are deleted only once the API has stored them,
in order; if the API is down they wait (with backoff) and nothing is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

from wasmbed.gateway.cache import GatewayCache

log = logging.getLogger("wasmbed.gateway.control")


class ControlPlaneError(Exception):
    pass


class ControlPlane:
    def __init__(self, api_url: str, token: str, gateway: str, cache: GatewayCache) -> None:
        self.gateway = gateway
        self.cache = cache
        self.http = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(15.0, connect=5.0, pool=60.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )
        self._enrollments = asyncio.Semaphore(16)  # queue here, not in the HTTP pool
        self._pending = asyncio.Event()
        self.last_ok: float | None = None

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ControlPlaneError(f"API server unreachable ({type(exc).__name__}: {exc})") \
                from exc
        if resp.status_code >= 400:
            raise ControlPlaneError(f"API server answered {resp.status_code}: {resp.text[:300]}")
        self.last_ok = time.time()
        return resp.json()

    async def register(self, spec: dict[str, Any]) -> None:
        await self._call("PUT", f"/api/v1/gateways/{self.gateway}/registration", json=spec)

    async def trust(self) -> dict[str, str]:
        """{"factoryCa", "platformCa", "crl"} PEM strings."""
        return await self._call("GET", "/api/v1/pki/trust")

    async def enroll(self, request: dict[str, Any]) -> dict[str, Any]:
        async with self._enrollments:
            return await self._call("POST", "/api/v1/enrollments",
                                    json={**request, "gateway": self.gateway})

    def post(self, event: dict[str, Any]) -> None:
        """Queue a report (durably) and wake the flusher."""
        event.setdefault("at", time.time())
        self.cache.post(event)
        self._pending.set()

    async def flush_forever(self, batch_window: float = 0.05) -> None:
        backoff = 0.2
        while True:
            await self._pending.wait()
            await asyncio.sleep(batch_window)  # let a burst of events share one request
            self._pending.clear()
            while batch := self.cache.peek():
                try:
                    await self._call("POST", f"/api/v1/gateways/{self.gateway}/reports",
                                     json={"events": [e for _, e in batch]})
                except ControlPlaneError as exc:
                    log.warning("report delivery failed, will retry: %s", exc)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.2
                self.cache.ack(batch[-1][0])
