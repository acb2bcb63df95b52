"""Redis stopped in the middle of a conversation, then started again.

The test runs its own redis-server on a free loopback port (never the shared one), with
an append-only file synced on every write, so the state survives the restart.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.exceptions import RedisError

from dialogs.catalog import Catalog
from dialogs.media import Medium
from dialogs.messages import EffectResult, LookupRequest, LookupResult, Reply
from dialogs.session import Snapshot
from gateway.conversations.messages import Message
from gateway.conversations.service import Conversations
from state.connect import connect
from state.store import CALL_TIMEOUT, SessionStore
from tests.dialogs.helpers import CENSUS_MOBILE
from tests.state import RedisServer, free_port

pytestmark = pytest.mark.integration  # a redis-server of the test's own

CITIZEN = "+97517123456"
UNAVAILABLE = "The service is temporarily unavailable, please try again later."
QUICK = 3.0  # seconds: a provider must get its 200 well within its webhook timeout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    redis_server = RedisServer(
        tmp_path / "redis",
        free_port(),
        ["--save", "", "--appendonly", "yes", "--appendfsync", "always"],
    )
    redis_server.start()
    try:
        yield redis_server
    finally:
        redis_server.stop()


@pytest.fixture
async def store(server: RedisServer) -> AsyncIterator[SessionStore]:
    # As gateway.app builds it: the answers' calls on a client without socket timeouts.
    session_store = SessionStore(
        connect(server.url), hop_client=connect(server.url, socket_timeout=None)
    )
    try:
        yield session_store
    finally:
        await session_store.close()


async def census(request: LookupRequest) -> EffectResult:
    return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": CENSUS_MOBILE})


@pytest.fixture
def conversations(services_catalog: Catalog, store: SessionStore) -> Conversations:
    return Conversations(services_catalog, store, lookup=census)


async def timed(conversations: Conversations, message: Message) -> tuple[list[Reply], float]:
    started = time.monotonic()
    replies = await conversations.handle(message)
    return replies, time.monotonic() - started


def sms(text: str, message_id: str) -> Message:
    return Message(
        CITIZEN, Medium.SMS, text, message_id=message_id, service="business-registration"
    )


async def test_polite_replies_while_redis_is_down_and_the_same_state_after(
    conversations: Conversations,
    store: SessionStore,
    server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert "Enter your citizenship ID" in (await conversations.handle(sms("hi", "SM1")))[0].text
    welcome = await conversations.handle(sms("11501001234", "SM2"))
    assert "Welcome Pema Wangmo" in welcome[0].text

    server.stop()
    with caplog.at_level(logging.WARNING, logger="gateway.conversations.service"):
        replies, elapsed = await timed(conversations, sms("Druk Bakery", "SM3"))
        ussd, ussd_elapsed = await timed(
            conversations, Message(CITIZEN, Medium.USSD, "", session="ATs1")
        )
    assert replies == [Reply(UNAVAILABLE, end=True)]
    assert ussd == [Reply(UNAVAILABLE, end=True)]  # a USSD END screen
    assert elapsed < QUICK
    assert ussd_elapsed < QUICK
    assert any("session store unavailable" in r.getMessage() for r in caplog.records)

    server.start()  # the same port; the append-only file brings the state back
    started = time.monotonic()
    after = await conversations.handle(sms("Druk Bakery", "SM3"))  # the citizen retries
    assert time.monotonic() - started < QUICK
    assert after[0].text.startswith("Type of business")
    record = await store.read(CITIZEN)
    assert record is not None
    snapshot = Snapshot.from_json(record.snapshot)
    assert snapshot.step == "business_type"
    assert snapshot.answers["cid"] == "11501001234"
    assert snapshot.answers["business_name"] == "Druk Bakery"
    assert (await conversations.handle(sms("11501001234", "SM2"))) == welcome  # still known
    assert (await conversations.handle(sms("1", "SM4")))[0].text.startswith("Main activity")


async def test_redis_lost_during_a_step_is_a_polite_reply_and_recovers(
    services_catalog: Catalog, store: SessionStore, server: RedisServer
) -> None:
    stop_now = False

    async def lookup(request: LookupRequest) -> EffectResult:
        if stop_now:
            server.stop()  # Redis goes away while the step runs
        return await census(request)

    conversations = Conversations(services_catalog, store, lookup=lookup, lock_ms=1000)
    await conversations.handle(sms("hi", "SM1"))
    stop_now = True
    replies, elapsed = await timed(conversations, sms("11501001234", "SM2"))
    assert replies == [Reply(UNAVAILABLE, end=True)]
    assert elapsed < QUICK

    stop_now = False
    server.start()
    # The interrupted answer's lock survived the restart: the retry waits it out.
    retried, elapsed = await timed(conversations, sms("11501001234", "SM2"))
    assert retried[0].text.startswith("Welcome Pema Wangmo")
    assert elapsed < QUICK
    record = await store.read(CITIZEN)
    assert record is not None
    assert Snapshot.from_json(record.snapshot).step == "business_name"


async def test_the_sweeper_fails_without_harm_while_redis_is_down(
    conversations: Conversations, server: RedisServer
) -> None:
    await conversations.handle(sms("hi", "SM1"))
    server.stop()
    with pytest.raises(RedisError):  # the app's sweeper loop logs it and goes on
        await conversations.sweep()
    server.start()
    assert await conversations.sweep() == 0


async def test_a_frozen_redis_is_a_polite_reply_within_seconds(
    services_catalog: Catalog, store: SessionStore, server: RedisServer
) -> None:
    """Redis takes connections but answers nothing (SIGSTOP): each call of an answer has
    its own deadline, as the socket timeout gives every other call."""
    conversations = Conversations(services_catalog, store, lookup=census, lock_ms=1000)
    await conversations.handle(sms("hi", "SM1"))
    assert server.process is not None
    pid = server.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        replies, elapsed = await timed(conversations, sms("11501001234", "SM2"))
    finally:
        os.kill(pid, signal.SIGCONT)
    assert replies == [Reply(UNAVAILABLE, end=True)]
    assert CALL_TIMEOUT <= elapsed < QUICK
    # Resumed, Redis ran the call it held and took the lock: the retry waits it out.
    again = await conversations.handle(sms("11501001234", "SM2"))
    assert again[0].text.startswith("Welcome Pema Wangmo")
