"""Databases of the shared Redis (127.0.0.1:6379) leased to one test at a time.

A test asks for the `redis_database` fixture and gets a database number no other test
holds, emptied before and after: no module picks a number by hand, and two pytest runs on
one machine (two checkouts, two helpers) never share a database. A lease is a key in
database 0 set with NX and an expiry, so one left by a killed run frees itself.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

from tests.state import SHARED_HOST, SHARED_PORT, missing

LEASE_PREFIX = "gw-test:lease:"
LEASE_SECONDS = 900  # longer than any test (pytest-timeout stops one at 600 s)
FIRST, LAST = 1, 15  # database 0 holds the leases
WAIT_SECONDS = 120.0


@dataclass(frozen=True)
class RedisDatabase:
    """A leased database: its number and URL."""

    number: int

    @property
    def url(self) -> str:
        return f"redis://{SHARED_HOST}:{SHARED_PORT}/{self.number}"

    def client(self) -> redis.Redis:
        return redis.Redis(host=SHARED_HOST, port=SHARED_PORT, db=self.number, socket_timeout=5)


def leases() -> redis.Redis:
    """The shared Redis's database 0, where the leases are kept."""
    return redis.Redis(host=SHARED_HOST, port=SHARED_PORT, db=0, socket_timeout=5)


@contextmanager
def leased_database() -> Iterator[RedisDatabase]:
    """A database of this caller's own until the block ends, empty on entry and exit."""
    token = secrets.token_hex(8)
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        with leases() as held:
            while True:
                for number in range(FIRST, LAST + 1):
                    if held.set(LEASE_PREFIX + str(number), token, nx=True, ex=LEASE_SECONDS):
                        break
                else:
                    if time.monotonic() > deadline:
                        missing("a free database of the Redis at 127.0.0.1:6379")
                    time.sleep(0.05)
                    continue
                break
    except redis.RedisError:
        missing(f"Redis at {SHARED_HOST}:{SHARED_PORT}")
    database = RedisDatabase(number)
    try:
        with database.client() as client:
            client.flushdb()
        yield database
    finally:
        with database.client() as client:
            client.flushdb()
        with leases() as held:
            key = LEASE_PREFIX + str(number)
            if held.get(key) == token.encode():
                held.delete(key)
