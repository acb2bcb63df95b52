"""The capacity model's arithmetic (bench/capacity.py), on round figures."""

from __future__ import annotations

import pytest

from bench.capacity import UTILISATION, size
from bench.conversation_bench import RedisBytes

COSTS = {
    "gateway": 1.0,  # ms CPU a hop
    "redis": 0.2,
    "postgres": 0.2,
    "redis_commands": 20.0,
    "redis_bytes_in": 2000.0,
    "redis_bytes_out": 500.0,
    "rows": 20.0,  # a registration
    "db_bytes": 8000.0,
}
HELD = RedisBytes(finished=150, open=1000, reply_keys=9, reply_bytes=3600)


def test_a_million_conversations_a_day_peak_at_375_hops_a_second() -> None:
    sized = size(COSTS, HELD, 60.0, 1_000_000, 30_000_000)
    # 15% of a day's million in one hour, 9 hops each.
    assert sized["peak hops/s"] == pytest.approx(375)
    assert sized["peak registrations/s"] == pytest.approx(1_000_000 * 0.15 / 3600)
    assert sized["gateway cores (workers)"] == pytest.approx(375 * 1.0 / 1000 / UTILISATION)
    assert sized["Redis commands/s"] == pytest.approx(375 * 20)
    assert sized["Redis Mbit/s"] == pytest.approx(375 * 2500 * 8 / 1e6)
    assert sized["PostgreSQL GB/day"] == pytest.approx(8.0)
    assert sized["PDF cores"] == pytest.approx(41.666 * 0.060 / UTILISATION, rel=1e-3)


def test_redis_holds_thirty_days_of_finished_conversations_at_most_once_a_citizen() -> None:
    # 30 days of a million is 30 million: every citizen of a 20-million country at most.
    country = size(COSTS, HELD, 60.0, 1_000_000, 20_000_000)
    month = size(COSTS, HELD, 60.0, 1_000_000, 50_000_000)
    open_and_replies = (0.25 * 1_000_000 * 1000 + 1_000_000 * 0.15 / 3600 * 600 * 3600) / 1e9
    assert country["Redis GB held"] == pytest.approx(20e6 * 150 / 1e9 + open_and_replies)
    assert month["Redis GB held"] == pytest.approx(30e6 * 150 / 1e9 + open_and_replies)


def test_shards_follow_the_busier_of_cpu_and_memory() -> None:
    light = size(COSTS, HELD, 60.0, 1_000_000, 30_000_000)
    assert light["Redis shards"] == 1
    busy = size({**COSTS, "redis": 2.0}, HELD, 60.0, 10_000_000, 30_000_000)
    # 3,750 hops/s at 2 ms a hop is 7.5 cores of Redis, at 60%: 12.5, so 13 shards.
    assert busy["Redis shards"] == 13
    big = size(COSTS, RedisBytes(2000, 1000, 9, 3600), 60.0, 1_000_000, 30_000_000)
    # 30 M finished conversations of 2 KB: 60 GB, four 16 GB shards.
    assert big["Redis shards"] == 4
