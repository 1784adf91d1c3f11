"""Waiting on a condition with a deadline — never a bare sleep.

`check()` returns a truthy value when done (returned to the caller) and may return a
`Seen` to record the last state observed; on timeout the error says what was awaited and
the last state seen, which is most of a failure diagnosis.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
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
        time.sleep(interval)


async def async_wait_for(check: Callable[[], Awaitable[T]], timeout: float, what: str,
                         interval: float = 0.1,
                         ignore: tuple[type[BaseException], ...] = ()) -> T:
    __tracebackhide__ = True  # a failure points at the scenario's line, not at this loop
    deadline = time.monotonic() + timeout
    last: Any = None
    error: BaseException | None = None
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
        await asyncio.sleep(interval)
