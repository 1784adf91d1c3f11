"""Small asyncio helpers shared by the services."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]],
                          timeout: float | None = None) -> bool:
    """Cancel tasks and wait until they have unwound (at most `timeout` s), ignoring how
    they ended; True if all did. The caller's own cancellation still reaches it: awaiting
    a task inside suppress(CancelledError) would swallow it, and leave the caller running."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    if not tasks:
        return True
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: how it ended is not ours to report
    return not pending
