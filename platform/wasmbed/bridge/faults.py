"""Network faults applied to relayed byte streams (bridge and proxy alike).

One `NetworkFaults` per relay process, changed at run time through its HTTP control API
(`fault_api.py`). Faults are applied per chunk in each direction: latency and jitter,
bandwidth cap, dropping a direction, blackhole (both directions silently), corrupting
bytes, refusing new connections, and cutting every live connection (RST). Partition and
flapping are timed combinations, run inside the relay so they need no test-side timing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any

UP, DOWN = "up", "down"  # up: device -> gateway


@dataclass
class NetworkFaults:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    bandwidth_bps: int = 0  # 0: unlimited
    drop_up: bool = False
    drop_down: bool = False
    blackhole: bool = False
    corrupt: int = 0  # flip one byte in each of the next N chunks
    refuse: bool = False  # new connections to the target are refused
    cuts: int = 0  # bumped by cut(); relays reset their connections when it changes
    stats: dict[str, int] = field(default_factory=lambda: {
        "bytesUp": 0, "bytesDown": 0, "dropped": 0, "corrupted": 0, "cuts": 0})
    _cut: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _timer: asyncio.Task[None] | None = field(default=None, repr=False)

    SETTABLE = ("latency_ms", "jitter_ms", "bandwidth_bps", "drop_up", "drop_down",
                "blackhole", "corrupt", "refuse")

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (*self.SETTABLE, "cuts")} | {"stats": self.stats}

    def update(self, **changes: Any) -> None:
        unknown = set(changes) - set(self.SETTABLE)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {self.SETTABLE}")
        for key, value in changes.items():
            setattr(self, key, type(getattr(self, key))(value))

    def clear(self) -> None:
        if self._timer:
            self._timer.cancel()
            self._timer = None
        for f in dataclasses.fields(self):
            if f.name in self.SETTABLE:
                setattr(self, f.name, f.default)

    def cut(self) -> None:
        """Reset every live connection (their pumps watch `cut_event`)."""
        self.cuts += 1
        self.stats["cuts"] += 1
        self._cut.set()
        self._cut = asyncio.Event()

    @property
    def cut_event(self) -> asyncio.Event:
        return self._cut

    def _run(self, coro: Any) -> None:
        if self._timer:
            self._timer.cancel()
        self._timer = asyncio.ensure_future(coro)

    def partition(self, seconds: float) -> None:
        """Blackhole and refuse for `seconds`, then heal."""
        async def run() -> None:
            self.blackhole = self.refuse = True
            try:
                await asyncio.sleep(seconds)
            finally:
                self.blackhole = self.refuse = False

        self._run(run())

    def flap(self, period_s: float, cycles: int) -> None:
        """Cut and blackhole for half of each period, `cycles` times."""
        async def run() -> None:
            try:
                for _ in range(cycles):
                    self.cut()
                    self.blackhole = True
                    await asyncio.sleep(period_s / 2)
                    self.blackhole = False
                    await asyncio.sleep(period_s / 2)
            finally:
                self.blackhole = False

        self._run(run())

    async def apply(self, direction: str, data: bytes) -> bytes | None:
        """The chunk to forward after faults, or None to drop it."""
        self.stats["bytesUp" if direction == UP else "bytesDown"] += len(data)
        if self.blackhole or (self.drop_up if direction == UP else self.drop_down):
            self.stats["dropped"] += len(data)
            return None
        delay = self.latency_ms + (random.uniform(-1, 1) * self.jitter_ms if self.jitter_ms
                                   else 0.0)
        if self.bandwidth_bps:
            delay += len(data) * 8 * 1000 / self.bandwidth_bps
        if delay > 0:
            await asyncio.sleep(delay / 1000)  # emulated wire time, not synchronisation
        if self.corrupt > 0 and data:
            self.corrupt -= 1
            self.stats["corrupted"] += 1
            i = random.randrange(len(data))
            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
        return data
