"""The shared rate limiter (`gateway.security.limiter`) on real Redis servers.

Every counting test runs on the embedded Redis 6.2 and on Redis 7 (`redis_url`): the
limiter's first version used `EXPIRE ... NX`, which Redis 6.2 refuses, and since a
failure to count allows by default, it let everything through on the embedded server.
Exact counts with the default `fail_open=True` prove it counts on both.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMinute

from gateway.security.limiter import Limiter
from gateway.settings import rates
from state.connect import connect
from state.embedded import EmbeddedRedis
from state.store import Client
from tests.gateway.security.conftest import plain_client
from tests.state import free_port


async def allowed_of(limiter: Limiter, limits: list[RateLimitItem], *ids: str, times: int) -> int:
    """How many of `times` hits were allowed."""
    return sum([bool(await limiter.hit(limits, *ids)) for _ in range(times)])


def test_the_two_servers_are_redis_6_2_and_redis_7(redis6: str, redis7: str) -> None:
    versions = []
    for url in (redis6, redis7):
        with plain_client(url) as server:
            info = server.info("server")
        versions.append(str(info["redis_version"]))
    assert versions[0].startswith("6.2."), versions
    assert versions[1].startswith("7."), versions


async def test_exactly_the_limit_is_allowed_then_refused(client: Client) -> None:
    limiter = Limiter(client)
    limits = rates("5/minute")
    outcomes = [bool(await limiter.hit(limits, "citizen")) for _ in range(8)]
    assert outcomes == [True] * 5 + [False] * 3


async def test_a_larger_limit_counts_exactly_too(client: Client) -> None:
    limiter = Limiter(client)
    assert await allowed_of(limiter, rates("37/minute"), "page", "client", times=100) == 37


async def test_the_limiter_writes_its_counters_in_redis(client: Client, redis_url: str) -> None:
    """Proof that Redis counts (not a failure read as "allowed"): keys under its prefix."""
    limiter = Limiter(client)
    await limiter.hit(rates("5/minute"), "citizen")
    with plain_client(redis_url) as server:
        keys = [key.decode() for key in server.scan_iter()]
    assert keys
    assert all(key.startswith("gw:limit") for key in keys), keys


async def test_each_identifier_has_its_own_count(client: Client) -> None:
    limiter = Limiter(client)
    limits = rates("3/minute")
    assert await allowed_of(limiter, limits, "public", "d", "10.0.0.1", times=5) == 3
    assert await allowed_of(limiter, limits, "public", "d", "10.0.0.2", times=5) == 3
    assert await allowed_of(limiter, limits, "public", "verify", "10.0.0.1", times=5) == 3


async def test_a_cost_counts_that_many(client: Client) -> None:
    limiter = Limiter(client)
    limits = rates("10/minute")
    assert await limiter.hit(limits, "number", cost=4)
    assert await limiter.hit(limits, "number", cost=4)
    assert not await limiter.hit(limits, "number", cost=4)  # 12 > 10: nothing counted
    assert await limiter.hit(limits, "number", cost=2)  # exactly 10
    assert not await limiter.hit(limits, "number", cost=1)


async def test_a_cost_above_the_limit_is_always_refused(client: Client) -> None:
    limiter = Limiter(client)
    assert not await limiter.hit(rates("3/minute"), "number", cost=4)
    assert await limiter.hit(rates("3/minute"), "number", cost=3)


async def test_the_first_limit_that_refuses_is_named(client: Client) -> None:
    limiter = Limiter(client)
    minute, day = RateLimitItemPerMinute(3), RateLimitItemPerDay(100)
    for _ in range(3):
        assert await limiter.hit([minute, day], "citizen")
    verdict = await limiter.hit([minute, day], "citizen")
    assert not verdict.allowed
    assert verdict.limit == minute


async def test_a_later_limit_refuses_when_it_is_the_tighter_one(client: Client) -> None:
    limiter = Limiter(client)
    minute, day = RateLimitItemPerMinute(10), RateLimitItemPerDay(4)
    assert await allowed_of(limiter, [minute, day], "citizen", times=6) == 4
    verdict = await limiter.hit([minute, day], "citizen")
    assert verdict.limit == day


async def test_a_refusal_by_the_first_limit_is_not_counted_by_the_next(client: Client) -> None:
    limiter = Limiter(client)
    minute, day = RateLimitItemPerMinute(3), RateLimitItemPerDay(100)
    await allowed_of(limiter, [minute, day], "citizen", times=10)
    stats = await limiter.strategy.get_window_stats(day, "citizen")
    assert stats.remaining == 97  # the three allowed, not the seven refused


async def test_retry_after_is_positive_and_within_the_window(client: Client) -> None:
    limiter = Limiter(client)
    limits = rates("2/minute;50/day")
    await allowed_of(limiter, limits, "citizen", times=2)
    verdict = await limiter.hit(limits, "citizen")
    assert not verdict.allowed
    assert 1 <= verdict.retry_after <= 61


async def test_an_allowed_verdict_is_truthy_and_names_no_limit(client: Client) -> None:
    verdict = await Limiter(client).hit(rates("2/minute"), "citizen")
    assert verdict
    assert verdict.limit is None
    assert verdict.retry_after == 0


async def test_clear_forgets_what_was_counted(client: Client) -> None:
    limiter = Limiter(client)
    limits = rates("2/minute;5/day")
    await allowed_of(limiter, limits, "citizen", times=3)
    await limiter.clear(limits, "citizen")
    assert await allowed_of(limiter, limits, "citizen", times=3) == 2


# ----------------------------------------------------------------------- Redis down
async def stopped_redis_limiter(tmp_path: Path) -> tuple[Limiter, Client]:
    """A limiter whose Redis answered once, then stopped."""
    server = EmbeddedRedis(tmp_path / "redis")
    made = connect(server.start())
    limiter = Limiter(made)
    try:
        assert await limiter.hit(rates("5/minute"), "warm-up")  # a pooled connection
    finally:
        server.stop()
    return limiter, made


@pytest.mark.integration  # an embedded redis-server, stopped
async def test_a_stopped_redis_allows_when_failing_open(tmp_path: Path) -> None:
    limiter, made = await stopped_redis_limiter(tmp_path)
    try:
        limits = rates("1/minute")
        verdicts = [await limiter.hit(limits, "page", fail_open=True) for _ in range(3)]
    finally:
        await made.aclose()
    assert all(verdict.allowed for verdict in verdicts)


@pytest.mark.integration  # an embedded redis-server, stopped
async def test_a_stopped_redis_refuses_when_failing_closed(tmp_path: Path) -> None:
    limiter, made = await stopped_redis_limiter(tmp_path)
    try:
        verdict = await limiter.hit(rates("100/minute"), "budget", fail_open=False)
    finally:
        await made.aclose()
    assert not verdict.allowed
    assert verdict.limit is None  # no limit refused: Redis could not count
    assert verdict.retry_after > 0


async def test_a_redis_that_never_answered_follows_fail_open() -> None:
    """Nothing listening on the port at all is an outage too."""
    made = connect(f"redis://127.0.0.1:{free_port()}/0")
    try:
        limiter = Limiter(made)
        assert await limiter.hit(rates("1/minute"), "page", fail_open=True)
        assert not await limiter.hit(rates("1/minute"), "budget", fail_open=False)
    finally:
        await made.aclose()
