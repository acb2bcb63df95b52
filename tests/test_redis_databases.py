"""The leases that give each test a Redis database of its own."""

from __future__ import annotations

import pytest

from tests.redis_databases import LEASE_PREFIX, RedisDatabase, leased_database, leases


def test_a_leased_database_is_empty_and_nobody_elses(redis_database: RedisDatabase) -> None:
    with redis_database.client() as client:
        assert client.dbsize() == 0
        client.set("mine", "1")
    with leased_database() as other:
        assert other.number != redis_database.number
        with other.client() as client:
            assert client.get("mine") is None
    with leases() as held:
        assert held.get(LEASE_PREFIX + str(redis_database.number)) is not None
        assert held.get(LEASE_PREFIX + str(other.number)) is None  # given back


@pytest.mark.integration  # leases without the fixture
def test_a_database_is_emptied_when_given_back() -> None:
    with leased_database() as database, database.client() as client:
        client.set("left", "1")
    with database.client() as client:
        assert client.get("left") is None
