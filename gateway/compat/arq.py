"""arq: its queue pool made the session store's kind, and its worker closed for redis-py 5.

Leans on what arq does not promise, checked against the installed arq by
tests/gateway/compat/test_arq.py; `arq>=0.26,<0.29` in pyproject.toml keeps an unchecked
release out.

- `create_pool` builds redis-py's own `ConnectionPool` for one server inside the
  `ArqRedis` it returns (no way to hand it ours), and pings once through it.
  `streamlined_pool` turns that pool into the session store's kind
  (`state.redis_compat.streamline`): redis-py 5 awaits each pooled connection's health
  check inside the pool's lock, so concurrent enqueues queued behind each other (an
  enqueue took 250 ms, then seconds, under load), and an enqueue (WATCH, two EXISTS,
  MULTI/EXEC) packed in Python cost 3% of a USSD hop.
- `Worker` keeps its pool in `_pool`, whether it handles signals in `_handle_signals`,
  its running jobs in `tasks`, its polling task in `main_task` (which calls `on_startup`
  just before its first poll), stops taking jobs when `allow_pick_jobs` is false, and
  stops them with `handle_sig`; its poll returns by itself, once its jobs have finished,
  when `burst` is set and `max_burst_jobs` is 0.
  `GatewayWorker.close` reads them as arq's own `close` does, which calls redis-py's
  deprecated `close()`.

When the contract test fails after an upgrade: read the new `create_pool` and
`Worker.close`. If arq builds another kind of pool, make that pool the session store's
kind some other way (or, if arq lets a caller hand it a pool, hand it one from
`state.redis_compat.streamlined_pool`) and compare `python -m bench.hop_cpu --callgrind`;
if arq's `close` closes with `aclose` and survives cancelled jobs, drop `GatewayWorker`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker

from state.redis_compat import streamline


async def streamlined_pool(settings: RedisSettings, queue_name: str) -> ArqRedis:
    """arq's pool for the queue `queue_name`, its connections the session store's kind: no
    pool lock around health checks, no check of one used a moment ago, commands packed by
    hiredis. A Sentinel's pool is left as arq made it."""
    pool = await create_pool(settings, default_queue_name=queue_name)
    await streamline(pool.connection_pool)
    return pool


class GatewayWorker(Worker):
    """arq's worker, closed with redis-py's `aclose` (arq's `close()` calls redis-py's
    deprecated one, and its warning would leave the connection pool open).

    Closing first stops taking jobs and gives the polling task `drain_seconds` to end by
    itself once the running jobs have finished: a send cancelled after the provider took
    it would be sent again by the retry, and a job or a poll cancelled inside a Redis
    pipeline leaves that pipeline holding its connection. Jobs still running then are
    cancelled and awaited, whatever they raise, and so is the polling task (before the
    pool closes under it); then the health-check key goes and `on_shutdown` runs. The
    shutdown hook and the pool's close run even when a step before them fails (Redis
    away): the exception is raised after them.
    """

    def __init__(self, *args: Any, drain_seconds: float = 5.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.drain_seconds = drain_seconds
        self.polling = False  # started up: `main_task` polls from here on
        self._startup = self.on_startup
        self.on_startup = self._started

    async def _started(self, ctx: dict[Any, Any]) -> None:
        if self._startup is not None:
            await self._startup(ctx)
        self.polling = True  # arq polls right after its startup hook

    async def close(self) -> None:
        if not self._handle_signals:
            self.allow_pick_jobs = False
            self._poll_last_time()
            main = self.main_task
            # A poll that is still starting up (Redis away, say) is cancelled at once.
            ending: set[asyncio.Task[Any]] = (
                {main}
                if main is not None and not main.done() and self.polling
                else {task for task in self.tasks.values() if not task.done()}
            )
            if ending and self.drain_seconds > 0:
                await asyncio.wait(ending, timeout=self.drain_seconds)
            self.handle_sig(signal.SIGUSR1)  # cancels what overstayed the drain
            await self._main_ended()
        pool = self._pool
        if pool is None:
            return
        async with contextlib.AsyncExitStack() as closing:  # run last first
            closing.push_async_callback(self._close_pool, pool)
            if self.on_shutdown:
                closing.push_async_callback(self.on_shutdown, self.ctx)
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
            await pool.delete(self.health_check_key)

    def _poll_last_time(self) -> None:
        """Make the polling task end by itself at its next turn, once its running jobs
        have finished (arq's burst mode with no job left to start). Cancelled instead, it
        could be inside `start_jobs`'s WATCH pipeline, which a cancellation leaves
        holding its connection; with a job running, the poll is there most turns (the
        job stays in the queue until it finishes)."""
        self.burst = True
        self.max_burst_jobs = 0

    async def _main_ended(self) -> None:
        """Wait for the polling task, cancelled again each second: Python 3.11 can lose a
        cancellation inside redis-py (`state.cancellation`). Taking no jobs by now, it
        sleeps or awaits its jobs, so a repeated cancellation finds no pipeline."""
        main = self.main_task
        while main is not None and not main.done():
            main.cancel()
            await asyncio.wait({main}, timeout=1)

    async def _close_pool(self, pool: ArqRedis) -> None:
        self._pool = None
        await pool.aclose(close_connection_pool=True)
