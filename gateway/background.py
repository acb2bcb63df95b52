"""The loops a gateway process runs beside its requests, and how they end.

- the sweeper: expires abandoned conversations (`Conversations.sweep`);
- the relay: numbers submissions and queues the notifications they owe that are still
  pending a while after they were stored (the process that stored them may have died).

Both go on when Redis or the database is down: they log and try again next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from gateway.conversations.service import Conversations
from gateway.delivery.outbox import Outbox
from state.cancellation import raise_if_cancelled
from state.submissions import SubmissionStore

logger = logging.getLogger(__name__)


async def sweep_forever(conversations: Conversations, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await conversations.sweep()
        except Exception:  # Redis down: try again next time, never crash
            logger.warning("sweep failed; retrying in %s s", every, exc_info=True)
        raise_if_cancelled()  # a cancellation redis-py's wait_for lost (state.cancellation)


async def relay_forever(
    store: SubmissionStore, outbox: Outbox, every: float, stopping: asyncio.Event
) -> None:
    """Number submissions and queue notifications still waiting a while after their
    submission was stored: the process that stored them may have died in between.
    Queueing is idempotent (one job id per notification): offered twice, sent once."""
    # Stopped by `stopping`, never cancelled: a database call cancelled half-way would
    # leave its connection behind.
    while not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), every)
        if stopping.is_set():
            return
        try:
            for submission_id in await store.unnumbered(timedelta(seconds=every)):
                await store.number(submission_id)
            pending = await store.pending_notifications(timedelta(seconds=every))
            if pending:
                queued = await outbox.notify([row.id for row in pending])
                if queued:
                    logger.info("relay queued %d pending notifications", queued)
        except Exception:  # database or queue down: next time
            logger.warning("notification relay failed; retrying in %s s", every, exc_info=True)


async def cancel(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel loops and wait until each has ended."""
    for task in tasks:
        # Asked again until it ends: a library may lose a cancellation (Python 3.11's
        # wait_for inside redis-py and arq: state/cancellation.py).
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1)
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def stop(task: asyncio.Task[None], stopping: asyncio.Event) -> None:
    """Let a loop finish what it is doing (a database call cancelled half-way would
    leave its connection behind), then wait for it."""
    stopping.set()
    await task
