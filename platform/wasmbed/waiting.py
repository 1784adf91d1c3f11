"""Waiting on a condition with a deadline — never a bare sleep.

`check()` returns a truthy value when done (returned to the caller) and may return a
`Seen` to record the last state observed; on timeout the error says what was awaited and
the last state seen, which is most of a failure diagnosis.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A condition did not hold in time (an AssertionError so pytest shows it plainly)."""


class Seen:
    """Not done yet; `state` is what we saw (shown if we time out)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def __bool__(self) -> bool:
        return False


FIRST_INTERVAL = 0.005  # the first re-check; each later one waits twice as long, up to `interval`


def _pauses(interval: float) -> Iterator[float]:
    """Re-check soon, then less often: most conditions a test waits on (a process ready, a
    status reported) hold within tens of milliseconds, and a fixed 0.1 s poll rounded every
    such wait up to the next tenth of a second."""
    pause = min(FIRST_INTERVAL, interval)
    while True:
        yield pause
        pause = min(pause * 2, interval)


LAST_SEEN_MAX = 600  # characters of the last state in a failure: enough to diagnose


def _message(what: str, timeout: float, last: Any, error: BaseException | None) -> str:
    text = f"timed out after {timeout:.1f} s waiting for {what}"
    if last is not None:
        seen = repr(last)
        if len(seen) > LAST_SEEN_MAX:
            seen = f"{seen[:LAST_SEEN_MAX]}… ({len(seen) - LAST_SEEN_MAX} more characters)"
        text += f"; last seen: {seen}"
    if error is not None:
        text += f"; last error: {type(error).__name__}: {error}"
    return text


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.1,
             ignore: tuple[type[BaseException], ...] = ()) -> T:
    __tracebackhide__ = True  # a failure points at the scenario's line, not at this loop
    deadline = time.monotonic() + timeout
    last: Any = None
    error: BaseException | None = None
    pauses = _pauses(interval)
    while True:
        try:
            result = check()
            if result:
                return result
            last = result.state if isinstance(result, Seen) else result
        except ignore as exc:
            error = exc
        if time.monotonic() >= deadline:
            raise WaitTimeout(_message(what, timeout, last, error))
        time.sleep(min(next(pauses), max(deadline - time.monotonic(), 0.0)))


async def async_wait_for(check: Callable[[], Awaitable[T]], timeout: float, what: str,
                         interval: float = 0.1,
                         ignore: tuple[type[BaseException], ...] = ()) -> T:
    __tracebackhide__ = True  # a failure points at the scenario's line, not at this loop
    deadline = time.monotonic() + timeout
    last: Any = None
    error: BaseException | None = None
    pauses = _pauses(interval)
    while True:
        try:
            result = await check()
            if result:
                return result
            last = result.state if isinstance(result, Seen) else result
        except ignore as exc:
            error = exc
        if time.monotonic() >= deadline:
            raise WaitTimeout(_message(what, timeout, last, error))
        await asyncio.sleep(min(next(pauses), max(deadline - time.monotonic(), 0.0)))
