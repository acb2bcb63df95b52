"""The contract of `gateway.compat.arq` with the installed arq.

`streamlined_pool` relies on `create_pool` building redis-py's own pool (or the queue's
enqueues lose the session store's kind of connections, silently); `GatewayWorker.close`
on the worker's private state. These tests fail, naming what moved, when an upgrade moves
it (the seam's docstring says what to do then).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.typing import StartupShutdown, WorkerCoroutine
from arq.worker import Worker, func
from redis.asyncio import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.compat.arq import GatewayWorker, streamlined_pool
from state.redis_compat import PackedConnection, UncontendedPool
from tests.redis_databases import RedisDatabase
from tests.state import SHARED_HOST, SHARED_PORT, free_port

QUEUE = "gw:test:queue"
HEALTH_KEY = "gw:test:queue:health-check"


def settings_for(database: RedisDatabase) -> RedisSettings:
    settings = RedisSettings(host=SHARED_HOST, port=SHARED_PORT, database=database.number)
    settings.conn_retries = 0
    settings.retry_on_error = [RedisConnectionError]  # as the outbox sets it
    return settings


async def noop(ctx: dict[str, Any]) -> None:
    return None


def recording(contexts: list[dict[str, Any]]) -> StartupShutdown:
    """An `on_shutdown` hook that records the contexts it was called with."""

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        contexts.append(ctx)

    return on_shutdown


def worker_on(
    pool: ArqRedis, on_shutdown: StartupShutdown, drain_seconds: float = 0.2
) -> GatewayWorker:
    return GatewayWorker(
        drain_seconds=drain_seconds,
        functions=[func(noop, name="noop")],
        queue_name=QUEUE,
        redis_pool=pool,
        handle_signals=False,
        on_shutdown=on_shutdown,
        health_check_key=HEALTH_KEY,
    )


def job_worker(pool: ArqRedis, job: WorkerCoroutine, name: str, poll_delay: float) -> GatewayWorker:
    """A worker that runs `job`, queued as `name`, polling every `poll_delay` s."""
    return GatewayWorker(
        drain_seconds=5.0,
        functions=[func(job, name=name)],
        queue_name=QUEUE,
        redis_pool=pool,
        handle_signals=False,
        poll_delay=poll_delay,
        health_check_key=HEALTH_KEY,
    )


@pytest.fixture
async def queue_pool(redis_database: RedisDatabase) -> AsyncIterator[ArqRedis]:
    pool = await streamlined_pool(settings_for(redis_database), QUEUE)
    try:
        yield pool
    finally:
        await pool.aclose(close_connection_pool=True)


async def test_create_pool_builds_redis_pys_own_pool(redis_database: RedisDatabase) -> None:
    """What `streamline` turns into the session store's kind; any other pool it leaves
    alone, and enqueues would queue behind the pool's lock again."""
    pool = await create_pool(settings_for(redis_database), default_queue_name=QUEUE)
    try:
        assert type(pool.connection_pool) is ConnectionPool
        options = pool.connection_pool.connection_kwargs
        assert options["retry_on_error"] == [RedisConnectionError]
    finally:
        await pool.aclose(close_connection_pool=True)


async def test_the_streamlined_pool_is_the_session_stores_kind_and_queues(
    queue_pool: ArqRedis,
) -> None:
    pool = queue_pool.connection_pool
    assert type(pool) is UncontendedPool
    assert pool.connection_class is PackedConnection
    # The connection arq pinged with was of the old class: it went.
    assert not pool._available_connections
    assert not pool._in_use_connections
    assert pool.connection_kwargs["retry_on_error"] == [RedisConnectionError]
    job = await queue_pool.enqueue_job("noop", _job_id="one")
    assert job is not None
    assert await queue_pool.enqueue_job("noop", _job_id="one") is None  # queued already
    used = [*pool._available_connections, *pool._in_use_connections]
    assert used
    assert {type(connection) for connection in used} == {PackedConnection}


def test_the_worker_state_close_reads_is_there() -> None:
    options = inspect.signature(Worker).parameters
    assert {"redis_pool", "handle_signals", "health_check_key", "on_shutdown"} <= set(options)
    assert list(inspect.signature(Worker.handle_sig).parameters) == ["self", "signum"]
    assert isinstance(inspect.getattr_static(Worker, "pool"), property)


async def test_the_workers_private_state_is_as_close_reads_it() -> None:
    pool = ArqRedis(host=SHARED_HOST, port=free_port())
    hook = recording([])
    worker = worker_on(pool, hook)
    assert worker._pool is pool
    assert worker.pool is pool
    assert worker._handle_signals is False
    assert worker.allow_pick_jobs is True
    assert worker.tasks == {}
    assert worker.main_task is None
    assert worker.burst is False
    assert worker.max_burst_jobs == -1
    assert worker.health_check_key == HEALTH_KEY
    assert worker.on_shutdown is hook
    assert worker.ctx == {}
    await pool.aclose(close_connection_pool=True)


async def test_close_stops_the_jobs_runs_the_shutdown_and_closes_the_pool(
    queue_pool: ArqRedis, redis_database: RedisDatabase
) -> None:
    shutdowns: list[dict[str, Any]] = []
    worker = worker_on(queue_pool, recording(shutdowns))
    await queue_pool.set(HEALTH_KEY, "alive")
    running = asyncio.create_task(asyncio.sleep(60))
    worker.tasks["job"] = running
    connections = list(queue_pool.connection_pool._available_connections)
    assert connections
    await worker.close()
    assert running.cancelled()
    assert shutdowns == [worker.ctx]
    assert worker._pool is None
    assert not any(connection.is_connected for connection in connections)
    with redis_database.client() as check:
        assert not check.exists(HEALTH_KEY)
    await worker.close()  # closed already: nothing more happens
    assert shutdowns == [worker.ctx]


async def test_close_lets_a_job_about_to_finish_finish(
    queue_pool: ArqRedis, redis_database: RedisDatabase
) -> None:
    worker = worker_on(queue_pool, recording([]), drain_seconds=5.0)
    finishing = asyncio.create_task(asyncio.sleep(0.05, result="sent"))
    worker.tasks["job"] = finishing
    await worker.close()
    assert not finishing.cancelled()
    assert finishing.result() == "sent"
    assert worker.allow_pick_jobs is False


async def test_close_with_redis_away_still_runs_the_shutdown_and_closes_the_pool() -> None:
    pool = ArqRedis(host=SHARED_HOST, port=free_port())  # nothing listens there
    shutdowns: list[dict[str, Any]] = []
    worker = worker_on(pool, recording(shutdowns))
    with pytest.raises(RedisConnectionError):
        await worker.close()  # the health-check key cannot be deleted
    assert shutdowns == [worker.ctx]
    assert worker._pool is None


async def test_close_ends_the_polling_task_even_if_it_loses_a_cancellation(
    queue_pool: ArqRedis,
) -> None:
    """Python 3.11 can drop a cancellation inside redis-py; the pool must not close under
    a poll that goes on."""
    worker = worker_on(queue_pool, recording([]))
    cancelled = 0

    async def poll_that_swallows_one_cancellation() -> None:
        nonlocal cancelled
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled += 1
                if cancelled > 1:
                    raise

    worker.main_task = asyncio.create_task(poll_that_swallows_one_cancellation())
    await asyncio.sleep(0)
    await worker.close()
    assert worker.main_task.cancelled()
    assert cancelled == 2
    assert worker._pool is None


async def test_a_job_running_when_the_worker_closes_finishes_and_records_its_result(
    queue_pool: ArqRedis, redis_database: RedisDatabase
) -> None:
    async def slow(ctx: dict[str, Any]) -> str:
        await asyncio.sleep(0.3)
        return "sent"

    worker = job_worker(queue_pool, slow, "slow", poll_delay=0.01)
    job = await queue_pool.enqueue_job("slow", _job_id="slow-one", _queue_name=QUEUE)
    assert job is not None
    polling = asyncio.create_task(worker.async_run())
    while not worker.tasks:
        await asyncio.sleep(0.01)
    await worker.close()
    await asyncio.gather(polling, return_exceptions=True)
    assert polling.done()
    assert worker.main_task is not None
    assert worker.main_task.done()
    with redis_database.client() as check:
        assert check.exists("arq:result:slow-one")  # finished, result kept
        assert check.zcard(QUEUE) == 0
        assert not check.exists("arq:in-progress:slow-one")


async def test_close_ends_a_busy_poll_without_cancelling_it(
    queue_pool: ArqRedis, redis_database: RedisDatabase
) -> None:
    """With a job running the poll spends most turns in `start_jobs`'s WATCH pipeline
    (the job stays in the queue until it ends); cancelled there, the pipeline kept its
    connection (1 CI run in 3; 2 closes in 40 of a stress loop). The poll must end by
    itself."""
    started = asyncio.Event()

    async def sending(ctx: dict[str, Any]) -> str:
        started.set()
        await asyncio.sleep(0.1)
        return "sent"

    worker = job_worker(queue_pool, sending, "sending", poll_delay=0)
    await queue_pool.enqueue_job("sending", _job_id="busy", _queue_name=QUEUE)
    polling = asyncio.create_task(worker.async_run())
    await started.wait()
    await worker.close()
    await polling
    assert worker.polling
    assert worker.main_task is not None
    assert not worker.main_task.cancelled()
    assert worker.jobs_complete == 1
    with redis_database.client() as check:
        assert check.exists("arq:result:busy")
