"""Cancellations that Python 3.11's `asyncio.wait_for` loses.

On Python 3.11, `asyncio.wait_for` returns the awaited result and drops a cancellation
that arrives in the same turn of the event loop as that result (CPython gh-86296, fixed
in 3.12). redis-py 5 sends every command of a client with a socket timeout through it, so
a loop that runs until cancelled and talks to Redis can miss its cancellation, run on,
and leave whoever awaits it waiting forever (a test run stalled on a reload follower).
Such loops call `raise_if_cancelled` once a turn: the request is still counted on the
task (`Task.cancelling`), so it is honoured a turn late rather than never.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Raise CancelledError if the current task was asked to stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
