"""A loop that runs until cancelled ends even when `asyncio.wait_for` swallowed the
cancellation (Python 3.11), as redis-py's writes under a socket timeout can."""

from __future__ import annotations

import asyncio
import sys

import pytest

from state.cancellation import raise_if_cancelled


async def test_a_cancellation_wait_for_lost_still_ends_the_loop() -> None:
    ready: list[asyncio.Future[int]] = []
    turns = 0

    async def poll_forever(check: bool) -> None:
        nonlocal turns
        while True:
            answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            ready.append(answer)
            await asyncio.wait_for(answer, 10)  # a Redis reply under a socket timeout
            turns += 1
            if check:
                raise_if_cancelled()
            await asyncio.sleep(0)

    for check in (False, True):
        ready.clear()
        turns = 0
        task = asyncio.create_task(poll_forever(check))
        await asyncio.sleep(0)
        ready[-1].set_result(1)  # the reply arrives...
        task.cancel()  # ...in the same turn as the cancellation
        if check:
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 1)
            assert turns == (1 if sys.version_info < (3, 12) else 0)
        elif sys.version_info < (3, 12):
            await asyncio.sleep(0.05)
            assert not task.done()  # the loop ran on: what stalled a test run
            assert task.cancelling() == 1  # but the request is still counted
            task.uncancel()
            task.cancel()  # stopped here for the next case
            ready[-1].cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


async def test_a_cancellation_a_timeout_handled_does_not_count() -> None:
    async def body() -> str:
        try:
            async with asyncio.timeout(0):  # cancels the task, then takes it back
                await asyncio.sleep(1)
        except TimeoutError:
            pass
        raise_if_cancelled()
        return "went on"

    assert await asyncio.create_task(body()) == "went on"
