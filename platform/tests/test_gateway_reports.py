"""The gateway's report delivery (wasmbed.gateway.platform_api): reports from the SQLite
outbox, heartbeats from memory, in the order they came, against an API stand-in (httpx's
MockTransport) that records each request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from wasmbed.aio import cancel_and_wait
from wasmbed.gateway.cache import GatewayCache
from wasmbed.gateway.platform_api import ControlPlane
from wasmbed.reports import MAX_BATCH, HeartbeatSeen, ModuleState
from wasmbed.waiting import Seen, async_wait_for


class Api:
    """Stores each POSTed batch; answers `fail` (a status) to as many requests as
    `failures` says first."""

    def __init__(self) -> None:
        self.batches: list[list[dict]] = []
        self.failures = 0
        self.fail = 503

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.failures:
            self.failures -= 1
            return httpx.Response(self.fail, json={"code": "Unavailable"})
        self.batches.append(json.loads(request.content)["events"])
        return httpx.Response(200, json={"applied": len(self.batches[-1])})

    def events(self) -> list[tuple[str, str]]:
        """(type, device or module) of every event stored, in order."""
        return [(e["type"], e.get("moduleId") or e["device"]) for b in self.batches for e in b]


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[tuple[ControlPlane, Api]]:
    api = Api()
    cp = ControlPlane("http://api.test", "token", "gw", GatewayCache(tmp_path / "cache.db"))
    await cp.http.aclose()
    cp.http = httpx.AsyncClient(base_url="http://api.test",
                                transport=httpx.MockTransport(api.handle))
    yield cp, api
    await cp.close()
    cp.cache.close()


def beat(device: str, uptime: int) -> HeartbeatSeen:
    return HeartbeatSeen(device=device, uptimeMs=uptime, runningApps=[])


def state(module: str) -> ModuleState:
    return ModuleState(device="d", moduleId=module, state="RUNNING")


async def delivered(cp: ControlPlane, api: Api, count: int) -> None:
    async def enough() -> object:
        return len(api.events()) >= count or Seen(api.events())

    flusher = asyncio.create_task(cp.flush_forever(batch_window=0))
    try:
        await async_wait_for(enough, 10, f"{count} events delivered to the API")
    finally:
        await cancel_and_wait([flusher])


async def test_a_heartbeat_waits_in_memory_and_the_newest_per_device_goes(plane):
    cp, api = plane
    cp.post(beat("d", 1))
    cp.post(beat("e", 1))
    cp.post(beat("d", 2))
    assert cp.cache.outbox_size() == 0  # no disk write per heartbeat
    await delivered(cp, api, 2)
    assert sorted((e["device"], e["uptimeMs"]) for e in api.batches[0]) == [("d", 2), ("e", 1)]


async def test_a_heartbeat_goes_between_the_reports_posted_around_it(plane):
    cp, api = plane
    cp.post(state("before"))
    cp.post(beat("d", 1))
    cp.post(state("after"))
    await delivered(cp, api, 3)
    assert api.events() == [("app", "before"), ("heartbeat", "d"), ("app", "after")]


async def test_a_heartbeat_waits_for_the_backlog_posted_before_it(plane):
    cp, api = plane
    for i in range(MAX_BATCH + 10):
        cp.post(state(f"m{i}"))
    cp.post(beat("d", 1))
    await delivered(cp, api, MAX_BATCH + 11)
    assert [len(b) for b in api.batches] == [MAX_BATCH, 11]
    assert api.events()[-2:] == [("app", f"m{MAX_BATCH + 9}"), ("heartbeat", "d")]
    assert cp.cache.outbox_size() == 0


async def test_a_full_batch_of_beats_and_reports_keeps_their_order(plane):
    cp, api = plane
    for i in range(MAX_BATCH):
        cp.post(beat(f"d{i}", 1))
    cp.post(state("last"))
    await delivered(cp, api, MAX_BATCH + 1)
    assert [len(b) for b in api.batches] == [MAX_BATCH, 1]
    assert api.events()[-1] == ("app", "last")


async def test_beats_alone_wait_for_their_window_and_leave_in_one_request(plane):
    """A beat does not wake the flusher: each did, and at 10,000 devices the requests
    (~90 a second) and their garbage were what paused the gateway."""
    cp, api = plane
    cp.beat_window = 0.5
    flusher = asyncio.create_task(cp.flush_forever(batch_window=0))
    try:
        for i in range(20):
            cp.post(beat(f"d{i}", 1))
            for _ in range(5):  # the flusher gets its turns between beats
                await asyncio.sleep(0)

        async def stored() -> object:
            return len(api.events()) >= 20 or Seen(api.events())

        await async_wait_for(stored, 10, "20 beats delivered")
    finally:
        await cancel_and_wait([flusher])
    assert [len(b) for b in api.batches] == [20]


async def test_a_report_takes_the_waiting_beats_without_their_window(plane):
    cp, api = plane
    cp.beat_window = 3600
    cp.post(beat("d", 1))
    cp.post(state("m"))
    await delivered(cp, api, 2)
    assert api.events() == [("heartbeat", "d"), ("app", "m")]


async def test_beats_of_a_failed_request_wait_again_unless_a_newer_one_came(plane):
    cp, api = plane
    api.failures = 1
    cp.post(beat("d", 1))
    cp.post(beat("e", 1))
    flusher = asyncio.create_task(cp.flush_forever(batch_window=0))
    try:
        async def refused() -> object:
            return api.failures == 0 or Seen("the first request not answered yet")

        await async_wait_for(refused, 10, "the API to refuse the first request")
        cp.post(beat("d", 2))  # while the flusher backs off

        async def stored() -> object:
            return len(api.events()) >= 2 or Seen(api.events())

        await async_wait_for(stored, 10, "both devices' beats delivered after the retry")
    finally:
        await cancel_and_wait([flusher])
    beats = {e["device"]: e["uptimeMs"] for b in api.batches for e in b}
    assert beats == {"d": 2, "e": 1}
    assert len(api.events()) == 2  # nothing delivered twice


def test_the_outbox_remembers_its_newest_seq_across_a_restart(tmp_path):
    cache = GatewayCache(tmp_path / "cache.db")
    cache.post({"type": "running"})
    cache.post({"type": "running"})
    cache.ack(2)
    cache.close()
    again = GatewayCache(tmp_path / "cache.db")
    try:
        assert again.last_seq == 2
    finally:
        again.close()
