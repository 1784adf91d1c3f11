"""Enrollments on their way to the API, several to a request when they queue up.

In an enrollment storm the gateway spent more CPU on HTTP requests to the API (one per
device) than on the devices' TLS handshakes. Here a request goes out at once while few are
in flight; once `in_flight` requests are out, new enrollments wait and leave together, up
to `max_batch` to a request. A quiet gateway's latency is unchanged; a busy one sends
fewer, larger requests. An API without the batch route (older, or refusing it) gets one
request per device, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from wasmbed.reports import MAX_ENROLLMENT_BATCH

Request = dict[str, Any]
Answer = dict[str, Any]
# statuses with which an API without the batch route answers it (a gateway credential
# opens only the routes the API knows as gateway routes: 403)
NO_BATCH_ROUTE = (403, 404, 405)


class EnrollmentBatcher:
    def __init__(self, send_one: Callable[[Request], Awaitable[Answer]],
                 send_batch: Callable[[list[Request]], Awaitable[list[Answer]]], *,
                 max_batch: int = MAX_ENROLLMENT_BATCH, in_flight: int = 8) -> None:
        self._send_one, self._send_batch = send_one, send_batch
        self.max_batch = max_batch
        self._slots = asyncio.Semaphore(in_flight)
        self._queue: list[tuple[Request, asyncio.Future[Answer]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._draining = False
        self.batches_supported = True
        self.requests_sent = 0  # HTTP requests, for figures

    async def enroll(self, request: Request) -> Answer:
        """The API's answer for this device (raises what sending it raised)."""
        fut: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._queue.append((request, fut))
        if not self._draining:
            self._spawn(self._drain())
        return await fut

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for _, fut in self._queue:
            if not fut.done():
                fut.cancel()
        self._queue.clear()

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        self._draining = True
        try:
            while self._queue:
                await self._slots.acquire()  # while every slot is busy, the queue grows
                batch = self._queue[:self.max_batch]
                del self._queue[:self.max_batch]
                self._spawn(self._send(batch))
        finally:
            self._draining = False

    async def _send(self, batch: list[tuple[Request, asyncio.Future[Answer]]]) -> None:
        try:
            requests = [request for request, _ in batch]
            answers = await self._answers(requests)
            for (_, fut), answer in zip(batch, answers, strict=True):
                if isinstance(answer, BaseException):
                    _settle(fut, error=answer)
                else:
                    _settle(fut, answer=answer)
        except Exception as exc:
            for _, fut in batch:
                _settle(fut, error=exc)
        finally:
            self._slots.release()

    async def _answers(self, requests: list[Request]) -> list[Answer | BaseException]:
        if len(requests) > 1 and self.batches_supported:
            try:
                self.requests_sent += 1
                return list(await self._send_batch(requests))
            except Exception as exc:
                if getattr(exc, "status", None) not in NO_BATCH_ROUTE:
                    raise
                self.batches_supported = False  # an older API: one request per device
        self.requests_sent += len(requests)
        return list(await asyncio.gather(*(self._send_one(r) for r in requests),
                                         return_exceptions=True))


def _settle(fut: asyncio.Future[Answer], answer: Answer | None = None,
            error: BaseException | None = None) -> None:
    if fut.done():  # its device gave up waiting
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(answer or {})
