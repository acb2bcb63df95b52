"""The job queue: where it lives (`gateway.delivery.queue`), and the liveness probe of the worker
that serves it (`gateway worker --check`, run as the kubelet runs it) on a real Redis (a
database leased to each test)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from gateway.delivery import worker
from gateway.delivery.queue import (
    HEALTH_SECONDS,
    QueueConfigError,
    alive,
    health_key,
    queue_url_for,
    redis_settings,
)
from gateway.delivery.worker import run_in_process
from gateway.settings import Settings
from tests.gateway.delivery import test_outbox as outbox_tests
from tests.redis_databases import RedisDatabase
from tests.state import free_port

plain = outbox_tests.plain  # the fixture, found by pytest under this name


def test_queue_urls() -> None:
    single = redis_settings("redis://:p%40ss@cache.internal:6380/3")
    assert (single.host, single.port, single.database, single.password) == (
        "cache.internal",
        6380,
        3,
        "p@ss",
    )
    assert redis_settings("rediss://cache.internal").ssl
    unix = redis_settings("unix:///srv/var/redis/redis.sock?db=2")
    assert (unix.unix_socket_path, unix.database) == ("/srv/var/redis/redis.sock", 2)
    sentinel = redis_settings("redis+sentinel://:s@s1.internal:26380,s2.internal/gateway?db=2")
    assert sentinel.sentinel
    assert sentinel.host == [("s1.internal", 26380), ("s2.internal", 26379)]
    assert (sentinel.sentinel_master, sentinel.database, sentinel.password) == ("gateway", 2, "s")
    with pytest.raises(QueueConfigError, match="GATEWAY_QUEUE_URL"):
        redis_settings("redis+cluster://node1:7000")
    with pytest.raises(QueueConfigError, match="scheme"):
        redis_settings("http://example.org")


def test_a_cluster_store_needs_its_own_queue_url(tmp_path: Any) -> None:
    with pytest.raises(QueueConfigError, match="GATEWAY_QUEUE_URL"):
        queue_url_for(Settings(redis_url="redis+cluster://node1:7000"))
    both = Settings(redis_url="redis+cluster://node1:7000", queue_url="redis://q:6379/1")
    assert queue_url_for(both) == "redis://q:6379/1"
    with pytest.raises(QueueConfigError, match="no queue"):
        queue_url_for(Settings(var_dir=tmp_path))


async def worker_check(settings: Settings) -> int:
    """`gateway worker --check` as the kubelet runs it: its exit code (its stderr shown
    when it says something other than its one line, e.g. an import that failed)."""
    gateway = str(Path(sys.executable).parent / "gateway")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    assert settings.redis_url is not None
    env |= {"GATEWAY_REDIS_URL": settings.redis_url, "GATEWAY_QUEUE_NAME": settings.queue_name}
    probe = await asyncio.create_subprocess_exec(
        gateway, "worker", "--check", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(probe.communicate(), 60)
    assert len(err.decode().strip().splitlines()) <= 1, err.decode()
    assert probe.returncode is not None
    return probe.returncode


async def until_alive(settings: Settings) -> None:
    assert settings.redis_url is not None
    deadline = time.monotonic() + 10
    while not await alive(settings.redis_url, settings.queue_name):
        assert time.monotonic() < deadline, "the worker never recorded that it is alive"
        await asyncio.sleep(0.05)


async def test_the_liveness_probe_sees_this_hosts_worker_alive_and_then_gone(
    redis_database: RedisDatabase, plain: redis.Redis
) -> None:
    settings = Settings(redis_url=redis_database.url, worker_poll_seconds=0.01)
    assert await worker_check(settings) == 1  # no worker yet
    stopping = asyncio.Event()
    running = asyncio.create_task(run_in_process(settings, redis_database.url, stopping))
    try:
        await until_alive(settings)
        ttl: Any = plain.pttl(health_key(settings.queue_name))
        assert 0 < ttl <= (HEALTH_SECONDS + 1) * 1000
        assert await worker_check(settings) == 0
    finally:
        stopping.set()
        await asyncio.wait({running}, timeout=10)
    assert running.done()
    # A stopped worker says so at once.
    assert not await alive(redis_database.url, settings.queue_name)
    assert await worker_check(settings) == 1


async def test_a_worker_whose_event_loop_is_stuck_stops_looking_alive(
    redis_database: RedisDatabase, plain: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the probe is for: the loop blocked (here by this test, which shares it) for
    longer than the key lives, the key expires; unblocked, the worker records again."""
    monkeypatch.setattr(worker, "HEALTH_SECONDS", 1)  # the key lives 2 s
    settings = Settings(redis_url=redis_database.url, worker_poll_seconds=0.01)
    key = health_key(settings.queue_name)
    stopping = asyncio.Event()
    running = asyncio.create_task(run_in_process(settings, redis_database.url, stopping))
    try:
        await until_alive(settings)
        time.sleep(2.5)  # the event loop stuck: no poll, no record
        assert not plain.exists(key)
        await until_alive(settings)
    finally:
        stopping.set()
        await asyncio.wait({running}, timeout=10)


async def test_a_worker_without_its_redis_starts_again_until_it_is_stopped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis away: the worker fails, waits, tries again, and a stop ends the wait at once."""
    away = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = Settings(redis_url=away, worker_poll_seconds=0.01)
    stopping = asyncio.Event()
    running = asyncio.create_task(run_in_process(settings, away, stopping, restart_seconds=0.05))
    deadline = time.monotonic() + 30  # arq tries to connect 5 times, a second apart
    # Failed once, then started again: its second try to connect is under way.
    while not (
        "the outbox worker stopped; restarting" in caplog.text
        and caplog.text.count("5 retries remaining") >= 2
    ):
        assert time.monotonic() < deadline, caplog.text
        assert not running.done()
        await asyncio.sleep(0.02)
    stopping.set()
    await asyncio.wait_for(running, timeout=5)
    assert running.exception() is None
