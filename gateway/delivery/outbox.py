"""The outbox: queues an `Outgoing` as an arq job for the worker (`gateway.delivery.worker`).

An `Outgoing` with a `key` (the provider's update or message id) becomes a job with an id
derived from it; arq refuses a job whose id is queued, running or finished within the last
day, so a redelivered webhook is sent once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from collections.abc import Sequence

from arq.connections import ArqRedis
from fastapi import HTTPException
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from gateway.compat.arq import streamlined_pool
from gateway.delivery.outgoing import Outgoing
from gateway.delivery.queue import redis_settings
from gateway.delivery.worker import DELIVER, JOB_EVENTS_KEY, NOTIFY
from gateway.ops.metrics import count_error
from state.store import text_of

logger = logging.getLogger(__name__)


class OutboxUnavailable(HTTPException):
    """The queue cannot be reached: 503, so the provider delivers the webhook again (the
    conversation answers a redelivery with the same replies, which are queued then)."""

    def __init__(self) -> None:
        super().__init__(503, "the outbound queue is unavailable; try again")


def job_id(outgoing: Outgoing) -> str | None:
    """The deterministic arq job id for an `Outgoing` with a key; None without one."""
    if not outgoing.key:
        return None
    digest = hashlib.sha256(f"{outgoing.channel}\n{outgoing.key}".encode()).hexdigest()
    return f"send:{digest[:40]}"


class Outbox:
    """Enqueues outgoing messages on the queue at `url` (connected on first use)."""

    def __init__(self, url: str, queue_name: str) -> None:
        self.settings = redis_settings(url)  # refuses a cluster URL at start-up
        self.settings.conn_retries = 0  # a webhook cannot wait: fail fast, the provider retries
        # As the session store's connections (`state.connect`): a command that finds its
        # connection closed (a Redis restart; the pool does not check one used a moment
        # ago) is sent once more on a new one. An enqueue's WATCH is safe to send again;
        # a connection lost once watching raises WatchError (redis-py), never a retry.
        self.settings.retry_on_error = [RedisConnectionError]
        self.queue_name = queue_name
        self._pool: ArqRedis | None = None
        self._lock = asyncio.Lock()

    async def _connected(self) -> ArqRedis:
        async with self._lock:
            if self._pool is None:
                # The session store's kind of connections (gateway.compat.arq): without
                # them, concurrent enqueues queued behind each other under load.
                self._pool = await streamlined_pool(self.settings, self.queue_name)
            return self._pool

    async def send(self, outgoing: Outgoing) -> bool:
        """Queue `outgoing`; False when its key was queued already (nothing added)."""
        try:
            pool = await self._connected()
            job = await pool.enqueue_job(
                DELIVER,
                dataclasses.asdict(outgoing),
                _job_id=job_id(outgoing),
                _queue_name=self.queue_name,
            )
        except (TimeoutError, RedisError, OSError) as exc:
            count_error("queue_unavailable")
            logger.warning("could not queue a %s message: %s", outgoing.channel, exc)
            raise OutboxUnavailable() from exc
        if job is None:
            logger.info("%s message %s already queued; skipped", outgoing.channel, outgoing.key)
            return False
        return True

    async def notify(self, ids: Sequence[int], attempt: int | str = 0) -> int:
        """Queue stored notifications for the worker; how many were not queued already.

        The job id is the notification's (plus the operator's retry number, or a mark of
        another reason to send it again: a number that opted back in), so the relay may
        offer the same pending notification any number of times: it is queued once.
        """
        pool = await self._connected()
        queued = 0
        for notification_id in ids:
            suffix = f":{attempt}" if attempt else ""
            job = await pool.enqueue_job(
                NOTIFY,
                notification_id,
                _job_id=f"notify:{notification_id}{suffix}",
                _queue_name=self.queue_name,
            )
            queued += job is not None
        return queued

    async def ping(self) -> bool:
        """Whether the queue's Redis answers (readiness)."""
        pool = await self._connected()
        return bool(await pool.ping())

    async def depth(self) -> int:
        """Jobs in the queue: arq keeps them in a sorted set named after the queue (waiting,
        deferred for a retry, and running until done)."""
        pool = await self._connected()
        return int(await pool.zcard(self.queue_name))

    async def worker_events(self) -> dict[str, int]:
        """Retries and give-ups counted by every worker (`count_job_event` of the worker)."""
        pool = await self._connected()
        # redis-py types its commands for sync and async clients at once.
        counts: dict[bytes, bytes] = await pool.hgetall(JOB_EVENTS_KEY)  # type: ignore[misc]
        return {text_of(field): int(value) for field, value in counts.items()}

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose(close_connection_pool=True)
            self._pool = None
