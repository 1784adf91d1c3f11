"""The gateway's link to the API server: registration, enrollment, trust, reports.

Reports go through the cache's outbox and are deleted only once the API has stored them,
in order; if the API is down they wait (with backoff) and nothing is dropped. If the API
no longer knows this gateway (its resource was deleted), the gateway registers again and
then delivers what it holds: a deleted resource never costs a report.

Heartbeats are the exception: each is a snapshot that the next one replaces, so they wait
in memory, the latest per device, and leave in their place among the outbox's reports. At
10,000 devices a disk write per heartbeat was a thousand commits a second on the event
loop; a gateway crash now costs at most each device's newest beat, which its next one (an
interval later, to whichever gateway it reconnects to) replaces anyway. Nor does a beat wake
the flusher: beats wait up to BEAT_WINDOW_S and leave together, or sooner with a report.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
from pydantic import TypeAdapter

from wasmbed import http_keepalive
from wasmbed.gateway.cache import GatewayCache
from wasmbed.gateway.enrollment_batcher import EnrollmentBatcher
from wasmbed.http_trust import default_trust
from wasmbed.reports import MAX_BATCH, HeartbeatSeen, Report

log = logging.getLogger("wasmbed.gateway.platform_api")
_REPORT = TypeAdapter(Report)
Row = tuple[int, dict[str, Any]]  # (outbox seq, event); for a heartbeat: the seq it follows
# Beats alone go to the API at most this often. Each woke the flusher before: at 10,000
# devices that was ~90 requests a second of ~11 beats, each request leaving ~50 objects in
# reference cycles (httpx's request and response), so the gateway's young-generation
# collections came every 4.5 s and paused every session for 55-100 ms (gc callbacks); and
# the API spent 40% of a core taking them. Half a second is far inside what the API does
# with a beat (a device is stale after its missed heartbeats plus 2 s of grace).
BEAT_WINDOW_S = 0.5


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
            limits=http_keepalive.limits(max_connections=32, max_keepalive_connections=32),
        )
        self.enrollments = EnrollmentBatcher(self._enroll_one, self._enroll_batch)
        self._pending = asyncio.Event()
        # device -> (the outbox's newest seq when the beat came, the beat): latest wins
        self._beats: dict[str, Row] = {}
        self._beats_due = False  # the waiting beats leave with the next request
        self._beat_timer: asyncio.TimerHandle | None = None
        self.beat_window = BEAT_WINDOW_S
        self.last_ok: float | None = None
        self.registration: dict[str, Any] | None = None
        self.reregistrations = 0

    async def close(self) -> None:
        if self._beat_timer is not None:
            self._beat_timer.cancel()
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
        """Queue a report (durably: it is in the cache's outbox when this returns; a
        heartbeat only in memory, replacing the device's previous one) and wake the
        flusher."""
        event = report.model_dump(mode="json", exclude_none=True)
        if isinstance(report, HeartbeatSeen):
            self._beats[report.device] = (self.cache.last_seq, event)
            if self._beat_timer is None and not self._beats_due:
                self._beat_timer = asyncio.get_running_loop().call_later(
                    self.beat_window, self._beats_ready)
            return
        self.cache.post(event)
        self._pending.set()

    def _beats_ready(self) -> None:
        self._beat_timer = None
        self._beats_due = True
        self._pending.set()

    def _next_request(self, rows: list[Row]) -> tuple[list[dict[str, Any]], int | None, list[Row]]:
        """The next request: the outbox rows with the waiting heartbeats among them, each
        beat after the reports posted before it, at most MAX_BATCH events in all. Returns
        (events, the last row's seq or None, the beats taken with their places). A beat
        that came after a report still waiting in the outbox waits with it."""
        upto = rows[-1][0] if len(rows) == MAX_BATCH else self.cache.last_seq
        # a beat sorts after the row whose seq it follows and before the next one
        order = sorted([(seq, 0, event) for seq, event in rows] +
                       [(seq, 1, dev) for dev, (seq, _) in self._beats.items() if seq <= upto])
        events: list[dict[str, Any]] = []
        taken: list[Row] = []
        last_row: int | None = None
        for seq, is_beat, item in order[:MAX_BATCH]:
            if is_beat:
                taken.append(self._beats.pop(item))
                events.append(taken[-1][1])
            else:
                events.append(item)
                last_row = seq
        return events, last_row, taken

    def _put_back(self, taken: list[Row]) -> None:
        """Beats of a request that failed wait again, unless a newer one came meanwhile."""
        for seq, event in taken:
            self._beats.setdefault(event["device"], (seq, event))
        if taken:
            self._beats_due = True  # they go with the retry

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
            while (batch := self.cache.peek(MAX_BATCH)) or (self._beats_due and self._beats):
                events, last_row, beats = self._next_request(batch)
                if not self._beats:  # beats that come while it is out wait for their window
                    self._beats_due = False
                try:
                    await self._call("POST", f"/api/v1/gateways/{self.gateway}/reports",
                                     json={"events": events})
                except ControlPlaneError as exc:
                    self._put_back(beats)
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
                if last_row is not None:
                    self.cache.ack(last_row)

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
