"""The gateway's enrollment batcher (wasmbed.gateway.enrollment_batcher), against an API
stand-in that records what it was sent."""

from __future__ import annotations

import asyncio

import pytest

from wasmbed.gateway.enrollment_batcher import EnrollmentBatcher


class Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"API answered {status}")
        self.status = status


class Api:
    """Answers each request after `release` is set; `batch_status` refuses the batch route."""

    def __init__(self, batch_status: int | None = None) -> None:
        self.release = asyncio.Event()
        self.singles: list[str] = []
        self.batches: list[list[str]] = []
        self.batch_status = batch_status

    async def one(self, request: dict) -> dict:
        self.singles.append(request["key"])
        await self.release.wait()
        if request["key"] == "bad":
            raise Refused(500)
        return {"deviceId": f"dev-{request['key']}"}

    async def batch(self, requests: list[dict]) -> list[dict]:
        if self.batch_status:
            raise Refused(self.batch_status)
        self.batches.append([r["key"] for r in requests])
        await self.release.wait()
        return [{"deviceId": f"dev-{r['key']}"} for r in requests]


async def sent(api: Api, key: str) -> None:
    """Let the loop run until the API has been sent `key` alone."""
    for _ in range(100):
        if key in api.singles:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{key} was not sent on its own: {api.singles} {api.batches}")


async def test_a_quiet_gateway_sends_each_enrollment_at_once():
    api = Api()
    api.release.set()
    batcher = EnrollmentBatcher(api.one, api.batch, in_flight=2)
    assert await batcher.enroll({"key": "a"}) == {"deviceId": "dev-a"}
    assert api.singles == ["a"] and api.batches == []


async def test_enrollments_queued_behind_busy_requests_leave_together_in_order():
    api = Api()
    batcher = EnrollmentBatcher(api.one, api.batch, max_batch=3, in_flight=2)
    keys = [str(i) for i in range(9)]
    waiting = [asyncio.ensure_future(batcher.enroll({"key": "0"}))]
    await sent(api, "0")  # alone: nothing else was waiting
    waiting += [asyncio.ensure_future(batcher.enroll({"key": k})) for k in keys[1:]]
    await asyncio.sleep(0)
    api.release.set()
    answers = await asyncio.wait_for(asyncio.gather(*waiting), 5)
    assert [a["deviceId"] for a in answers] == [f"dev-{k}" for k in keys]
    assert api.singles == ["0"] and api.batches[0] == ["1", "2", "3"]  # the rest, batched
    assert all(len(b) <= 3 for b in api.batches)
    assert sorted(api.singles + [k for b in api.batches for k in b]) == sorted(keys)
    assert batcher.requests_sent < len(keys)


@pytest.mark.parametrize("status", [403, 404])
async def test_an_api_without_the_batch_route_gets_one_request_per_device(status):
    api = Api(batch_status=status)
    batcher = EnrollmentBatcher(api.one, api.batch, in_flight=1)
    waiting = [asyncio.ensure_future(batcher.enroll({"key": k})) for k in "abc"]
    await asyncio.sleep(0)
    api.release.set()
    answers = await asyncio.wait_for(asyncio.gather(*waiting), 5)
    assert [a["deviceId"] for a in answers] == ["dev-a", "dev-b", "dev-c"]
    assert sorted(api.singles) == ["a", "b", "c"] and not batcher.batches_supported


async def test_one_failure_fails_its_device_only():
    api = Api(batch_status=404)
    api.release.set()
    batcher = EnrollmentBatcher(api.one, api.batch, in_flight=1)
    waiting = [asyncio.ensure_future(batcher.enroll({"key": k})) for k in ("a", "bad")]
    good, bad = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 5)
    assert good == {"deviceId": "dev-a"} and isinstance(bad, Refused)


async def test_a_refused_batch_fails_its_devices_with_the_reason():
    api = Api(batch_status=500)
    batcher = EnrollmentBatcher(api.one, api.batch, in_flight=1)
    first = asyncio.ensure_future(batcher.enroll({"key": "a"}))
    await sent(api, "a")
    rest = [asyncio.ensure_future(batcher.enroll({"key": k})) for k in "bc"]
    await asyncio.sleep(0)
    api.release.set()
    assert await asyncio.wait_for(first, 5) == {"deviceId": "dev-a"}
    for task in rest:
        with pytest.raises(Refused):
            await asyncio.wait_for(task, 5)
