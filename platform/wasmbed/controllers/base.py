"""A small controller runtime: list+watch informers feeding a de-duplicating work queue,
one worker, periodic resync, requeue-after, and error backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from wasmbed.store import Gone, NotFound, Store, WatchEvent

log = logging.getLogger("wasmbed.controllers")

Mapper = Callable[[WatchEvent], Iterable[str]]


class Controller:
    kind: str = ""
    resync_seconds: float = 30.0

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._failures: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.reconciles = 0

    # --- what subclasses provide --------------------------------------------------------

    def watches(self) -> list[tuple[str, Mapper]]:
        """(kind, event -> names of our kind to reconcile); our own kind by default."""
        return [(self.kind, lambda ev: [ev.object["metadata"]["name"]])]

    async def reconcile(self, name: str) -> float | None:
        """Converge one object; return seconds after which to look again, or None."""
        raise NotImplementedError

    # --- queue --------------------------------------------------------------------------

    def enqueue(self, name: str, after: float = 0.0) -> None:
        if after > 0:
            old = self._timers.pop(name, None)
            if old:
                old.cancel()
            self._timers[name] = asyncio.get_running_loop().call_later(
                after, self.enqueue, name)
            return
        if name not in self._queued:
            self._queued.add(name)
            self._queue.put_nowait(name)

    async def _enqueue_all(self) -> None:
        items, _ = await self.store.list(self.kind)
        for item in items:
            self.enqueue(item["metadata"]["name"])

    # --- loops --------------------------------------------------------------------------

    async def _informer(self, kind: str, mapper: Mapper) -> None:
        while True:
            try:
                items, rv = await self.store.list(kind)
                for item in items:
                    for name in mapper(WatchEvent("ADDED", item)):
                        self.enqueue(name)
                async for event in self.store.watch(kind, rv):
                    if event.type == "BOOKMARK":
                        continue
                    for name in mapper(event):
                        self.enqueue(name)
            except Gone:
                log.info("%s watch on %s expired; re-listing", type(self).__name__, kind)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s watch on %s failed; retrying", type(self).__name__, kind)
                await asyncio.sleep(1.0)

    async def _resync(self) -> None:
        while True:
            await asyncio.sleep(self.resync_seconds)
            with contextlib.suppress(Exception):
                await self._enqueue_all()

    async def _worker(self) -> None:
        while True:
            name = await self._queue.get()
            self._queued.discard(name)
            try:
                after = await self.reconcile(name)
                self._failures.pop(name, None)
            except NotFound:
                continue
            except asyncio.CancelledError:
                raise
            except Exception:
                n = self._failures[name] = self._failures.get(name, 0) + 1
                after = min(30.0, 0.5 * 2**n)
                log.exception("%s: reconcile %s failed (retry in %.1fs)",
                              type(self).__name__, name, after)
            self.reconciles += 1
            if after is not None:
                self.enqueue(name, after)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._informer(k, m)) for k, m in self.watches()]
        self._tasks += [asyncio.create_task(self._worker()), asyncio.create_task(self._resync())]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for timer in self._timers.values():
            timer.cancel()
