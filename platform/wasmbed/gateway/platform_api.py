"""The gateway's link to the API server: registration, enrollment, trust, reports.

Reports go through the cache's outbox and are deleted only once the API has stored them,
in order; if the API is down they wait (with backoff) and nothing is dropped. If the API
no longer knows this gateway (its resource was deleted), the gateway registers again and
then delivers what it holds: a deleted resource never costs a report.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
from pydantic import TypeAdapter

from wasmbed.gateway.cache import GatewayCache
from wasmbed.gateway.enrollment_batcher import EnrollmentBatcher
from wasmbed.http_trust import default_trust
from wasmbed.reports import MAX_BATCH, Report

log = logging.getLogger("wasmbed.gateway.platform_api")
_REPORT = TypeAdapter(Report)


class ControlPlaneError(Exception):
    def __init__(self, message: str, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status, self.code = status, code


class ControlPlane:
    def __init__(self, api_url: str, token: str, gateway: str, cache: GatewayCache) -> None:
        self.gateway = gateway
        self.cache = cache
        self.http = httpx.AsyncClient(
            base_url=api_url.rstrip("/"), verify=default_trust(),
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(15.0, connect=5.0, pool=60.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )
        self.enrollments = EnrollmentBatcher(self._enroll_one, self._enroll_batch)
        self._pending = asyncio.Event()
        self.last_ok: float | None = None
        self.registration: dict[str, Any] | None = None
        self.reregistrations = 0

    async def close(self) -> None:
        await self.enrollments.close()
        await self.http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ControlPlaneError(f"API server unreachable ({type(exc).__name__}: {exc})") \
                from exc
        if resp.status_code >= 400:
            try:
                code = str(resp.json().get("code", ""))
            except (ValueError, AttributeError):
                code = ""
            raise ControlPlaneError(f"API server answered {resp.status_code}: "
                                    f"{resp.text[:300]}", resp.status_code, code)
        self.last_ok = time.time()
        return resp.json()

    async def register(self, spec: dict[str, Any]) -> None:
        await self._call("PUT", f"/api/v1/gateways/{self.gateway}/registration", json=spec)
        self.registration = spec

    async def register_until_accepted(self, spec: dict[str, Any],
                                      max_delay: float = 5.0) -> None:
        """Register, retrying with backoff while the API is unreachable or cannot verify
        our endpoint yet; a refusal that retrying cannot fix is raised."""
        delay = 0.2
        while True:
            try:
                await self.register(spec)
                return
            except ControlPlaneError as exc:
                if exc.status in (401, 403):
                    raise
                log.warning("registration not accepted yet, retrying in %.1f s: %s", delay, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)

    async def trust(self) -> dict[str, str]:
        """{"factoryCa", "platformCa", "crl"} PEM strings."""
        return await self._call("GET", "/api/v1/pki/trust")

    async def enroll(self, request: dict[str, Any]) -> dict[str, Any]:
        return await self.enrollments.enroll(request)

    async def _enroll_one(self, request: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/api/v1/enrollments",
                                json={**request, "gateway": self.gateway})

    async def _enroll_batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answer = await self._call("POST", "/api/v1/enrollments/batch",
                                  json={"gateway": self.gateway, "requests": requests})
        return list(answer["results"])

    def post(self, report: Report) -> None:
        """Queue a report (durably: it is in the cache's outbox when this returns) and wake
        the flusher."""
        self.cache.post(report.model_dump(mode="json", exclude_none=True))
        self._pending.set()

    async def flush_forever(self, batch_window: float = 0.01) -> None:
        """Deliver the outbox in order, one request at a time. Events that arrive while a
        request is out wait and leave together, so bursts share requests anyway; the
        window adds a little more sharing for a burst that starts from idle (it was 50 ms,
        which every fact the API shows - Connected, Running - waited)."""
        backoff = 0.2
        while True:
            await self._pending.wait()
            await asyncio.sleep(batch_window)  # let a burst of events share one request
            self._pending.clear()
            while batch := self.cache.peek(MAX_BATCH):
                try:
                    await self._call("POST", f"/api/v1/gateways/{self.gateway}/reports",
                                     json={"events": [e for _, e in batch]})
                except ControlPlaneError as exc:
                    if exc.status == 404 and exc.code == "NotFound" and self.registration:
                        await self._register_again()
                        continue
                    if exc.status == 422 and self._set_aside_invalid(batch):
                        continue
                    log.warning("report delivery failed, will retry: %s", exc)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.2
                self.cache.ack(batch[-1][0])

    async def _register_again(self) -> None:
        log.warning("the API no longer knows gateway %s (its resource was deleted): "
                    "registering again before delivering %d reports", self.gateway,
                    self.cache.outbox_size())
        assert self.registration is not None
        await self.register_until_accepted(self.registration)
        self.reregistrations += 1

    def _set_aside_invalid(self, batch: list[tuple[int, dict[str, Any]]]) -> bool:
        """A batch the API refuses as invalid would block the outbox for ever: drop the
        reports that do not validate (each is logged) and keep the rest. True if any went."""
        dropped = False
        for seq, event in batch:
            try:
                _REPORT.validate_python(event)
            except ValueError as exc:
                log.error("dropping a report the API cannot accept: %s (%s)", event, exc)
                self.cache.drop(seq)
                dropped = True
        return dropped
