"""wasmbed.aio: stopping tasks without losing the stopper's own cancellation."""

from __future__ import annotations

import asyncio

from wasmbed.aio import cancel_and_wait


async def test_the_callers_cancellation_is_not_swallowed():
    """A task that cleans up with cancel_and_wait must still stop when it is cancelled
    during the clean-up (the old helper awaited inside suppress(CancelledError), and the
    task went on running)."""
    slow_exit = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await slow_exit.wait()  # takes a while to unwind

    async def owner() -> str:
        child = asyncio.create_task(stubborn())
        await asyncio.sleep(0)
        await cancel_and_wait([child])
        return "went on after its clean-up"

    task = asyncio.create_task(owner())
    await asyncio.sleep(0.01)
    task.cancel()  # while it waits for the child to unwind
    slow_exit.set()
    done, _ = await asyncio.wait([task], timeout=5)
    assert done and task.cancelled()


async def test_a_bounded_wait_reports_tasks_that_did_not_stop():
    deaf_until = asyncio.Event()

    async def deaf() -> None:
        while not deaf_until.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(deaf())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], timeout=0.05) is False
    deaf_until.set()
    assert await cancel_and_wait([task], timeout=5) is True
