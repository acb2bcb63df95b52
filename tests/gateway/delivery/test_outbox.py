"""The outbox and the worker on a real Redis (a database leased to each test), sending to a
fake Telegram Bot API.

`FakeTelegram` is a real HTTP server on a loopback port that records every call and
answers as the Bot API does; it can be told to fail the next calls of a method.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from arq.jobs import Job

from dialogs.messages import Reply, ReplyOption
from gateway.delivery.outbox import Outbox, job_id
from gateway.delivery.outgoing import Outgoing, retry_after
from gateway.delivery.queue import (
    redis_settings,
)
from gateway.delivery.worker import backoff, build_worker
from gateway.settings import Settings
from state.connect import UncontendedPool
from state.packing import PackedConnection
from tests.gateway.fake_providers import FakeProvider, serving
from tests.redis_databases import RedisDatabase

BOT_TOKEN = "7354189421:AAF3xkqB-Zr8cYh2Q9mVtLw0nPsJdE4uGoI"
CHAT = 580114233


@dataclass
class Call:
    method: str
    token: str
    body: dict[str, Any]


@dataclass
class FakeTelegram:
    """A Bot API on a loopback port: records calls; `fail[method]` lists statuses to
    answer the next calls of `method` with before succeeding."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    fail: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: list[float] = field(default_factory=list)

    def handle(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        _, bot, method = path.split("/", 2)
        with self.lock:
            self.calls.append(Call(method, bot.removeprefix("bot"), json.loads(body)))
            self.times.append(time.monotonic())
            failures = self.fail.get(method, [])
            status = failures.pop(0) if failures else 200
        if status == 200:
            result: Any = True
            if method == "sendMessage":
                result = {"message_id": len(self.calls), "chat": {"id": CHAT, "type": "private"}}
            return 200, {"ok": True, "result": result}
        if status == 429:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
        return status, {"ok": False, "error_code": status, "description": "Bad Request: nope"}

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        with self.lock:
            return [call.body for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bodies = self.sent(method)
            if len(bodies) >= count:
                return bodies
            time.sleep(0.01)
        raise AssertionError(f"{method}: {len(self.sent(method))} call(s), expected {count}")


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    with serving(FakeProvider(lambda call, n: fake.handle(call.path, call.body))) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def plain(redis_database: RedisDatabase) -> Iterator[redis.Redis]:
    """A plain client of the test's database, to look inside it."""
    with redis_database.client() as connection:
        yield connection


def settings_for(fake: FakeTelegram, database: RedisDatabase, **extra: Any) -> Settings:
    options: dict[str, Any] = {
        "redis_url": database.url,
        "telegram_bot_token": BOT_TOKEN,
        "telegram_api_url": fake.url,
        "worker_poll_seconds": 0.01,
        "send_retry_seconds": 0.05,
        **extra,
    }
    return Settings(**options)


@pytest.fixture
async def outbox(redis_database: RedisDatabase) -> AsyncIterator[Outbox]:
    box = Outbox(redis_database.url, Settings().queue_name)
    try:
        yield box
    finally:
        await box.close()


async def work(settings: Settings) -> dict[str, int]:
    """Run a worker on the settings' Redis until the queue is empty; what it did."""
    assert settings.redis_url is not None
    worker = build_worker(settings, settings.redis_url, burst=True)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return {
        "complete": worker.jobs_complete,
        "retried": worker.jobs_retried,
        "failed": worker.jobs_failed,
    }


def outgoing(key: str = "tg:1", **context: Any) -> Outgoing:
    menu = Reply("Type of business", (ReplyOption("1", "Cottage"), ReplyOption("2", "Small")))
    return Outgoing(
        channel="telegram",
        address=str(CHAT),
        replies=[Outgoing.encode(Reply("Welcome Pema Wangmo")), Outgoing.encode(menu)],
        context=context,
        key=key,
    )


async def result(database: RedisDatabase, item: Outgoing) -> dict[str, Any]:
    from arq.connections import create_pool

    pool = await create_pool(redis_settings(database.url))
    try:
        identifier = job_id(item)
        assert identifier is not None
        value: dict[str, Any] = await Job(identifier, pool).result(timeout=5)
        return value
    finally:
        await pool.aclose(close_connection_pool=True)


async def test_the_outbox_queues_and_the_worker_sends(
    outbox: Outbox, fake_telegram: FakeTelegram, redis_database: RedisDatabase
) -> None:
    item = outgoing(callback_query_id="4382bfdwdsb323b2d9")
    assert await outbox.send(item)
    assert fake_telegram.calls == []  # nothing is sent before the worker runs
    done = await work(settings_for(fake_telegram, redis_database))
    assert done == {"complete": 1, "retried": 0, "failed": 0}
    assert [call.method for call in fake_telegram.calls] == [
        "answerCallbackQuery",
        "sendMessage",
        "sendMessage",
    ]
    assert {call.token for call in fake_telegram.calls} == {BOT_TOKEN}
    assert fake_telegram.sent("answerCallbackQuery") == [
        {"callback_query_id": "4382bfdwdsb323b2d9"}
    ]
    first, second = fake_telegram.sent()
    assert first == {"chat_id": CHAT, "text": "Welcome Pema Wangmo"}
    assert second == {
        "chat_id": CHAT,
        "text": "Type of business",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "1. Cottage", "callback_data": "1"}],
                [{"text": "2. Small", "callback_data": "2"}],
            ]
        },
    }
    assert await result(redis_database, item) == {"sent": True, "tries": 1, "error": ""}


async def test_the_queue_connections_are_the_session_stores_kind(
    outbox: Outbox, redis_database: RedisDatabase
) -> None:
    """No pool lock around health checks, commands packed by hiredis: and jobs queue."""
    assert await outbox.send(outgoing(key="update-77"))
    pool = (await outbox._connected()).connection_pool
    assert type(pool) is UncontendedPool
    assert pool.connection_class is PackedConnection
    # arq's first ping made a connection before the pool was ours: it went, none is left
    # that packs in Python.
    used = [*pool._available_connections, *pool._in_use_connections]
    assert used
    assert {type(connection) for connection in used} == {PackedConnection}
    assert await outbox.depth() == 1


async def test_an_enqueue_on_a_connection_redis_closed_is_sent_again(
    outbox: Outbox, plain: redis.Redis
) -> None:
    """A Redis restart closes the connection the last enqueue gave back a moment ago (the
    pool sends it unchecked): the next enqueue goes through on a new one."""
    assert await outbox.send(outgoing(key="before-restart"))
    pool = await outbox._connected()
    first = await pool.client_id()
    assert plain.client_kill_filter(_id=first) == 1
    assert await outbox.send(outgoing(key="after-restart"))
    assert await pool.client_id() != first
    assert await outbox.depth() == 2


async def test_a_failing_provider_is_retried_with_backoff_then_succeeds(
    outbox: Outbox, fake_telegram: FakeTelegram, redis_database: RedisDatabase
) -> None:
    fake_telegram.fail["sendMessage"] = [502, 429, 503]
    item = outgoing()
    await outbox.send(item)
    done = await work(settings_for(fake_telegram, redis_database))
    assert done == {"complete": 1, "retried": 3, "failed": 0}
    assert await result(redis_database, item) == {"sent": True, "tries": 4, "error": ""}
    assert len(fake_telegram.sent()) == 5  # 3 failures, then both messages
    times = fake_telegram.times
    gaps = [later - earlier for earlier, later in itertools.pairwise(times[:4])]
    assert gaps[0] >= 0.05  # 0.05 s, then 0.2 s, then 0.8 s
    assert gaps[1] >= 0.2
    assert gaps[2] >= 0.8


async def test_a_retry_resumes_after_the_messages_already_sent(
    outbox: Outbox, fake_telegram: FakeTelegram, redis_database: RedisDatabase
) -> None:
    fake_telegram.fail["sendMessage"] = [200, 502]  # the first message passes, the second not
    item = outgoing()
    await outbox.send(item)
    done = await work(settings_for(fake_telegram, redis_database))
    assert done == {"complete": 1, "retried": 1, "failed": 0}
    texts = [body["text"] for body in fake_telegram.sent()]
    # The citizen reads "Welcome" once: the retry starts at the message that failed.
    assert texts == ["Welcome Pema Wangmo", "Type of business", "Type of business"]


async def test_flood_control_waits_as_long_as_telegram_asks(
    outbox: Outbox, fake_telegram: FakeTelegram, redis_database: RedisDatabase
) -> None:
    fake_telegram.fail["sendMessage"] = [429]  # "retry_after": 1
    await outbox.send(outgoing())
    done = await work(settings_for(fake_telegram, redis_database, send_retry_seconds=0.01))
    assert done == {"complete": 1, "retried": 1, "failed": 0}
    first, retried = fake_telegram.times[:2]
    assert retried - first >= 1.0  # not the 0.01 s of our own backoff


async def test_retries_stop_after_max_tries(
    outbox: Outbox, fake_telegram: FakeTelegram, redis_database: RedisDatabase
) -> None:
    fake_telegram.fail["sendMessage"] = [500] * 10
    item = outgoing()
    await outbox.send(item)
    settings = settings_for(
        fake_telegram, redis_database, send_max_tries=3, send_retry_seconds=0.01
    )
    done = await work(settings)
    assert done["retried"] == 2
    assert len(fake_telegram.sent()) == 3
    assert await result(redis_database, item) == {
        "sent": False,
        "tries": 3,
        "error": "sendMessage: HTTP 500 Bad Request: nope",
    }


async def test_a_permanent_refusal_is_not_retried(
    outbox: Outbox, fake_telegram: FakeTelegram, redis_database: RedisDatabase
) -> None:
    fake_telegram.fail["sendMessage"] = [400]
    item = outgoing()
    await outbox.send(item)
    done = await work(settings_for(fake_telegram, redis_database))
    assert done["retried"] == 0
    assert len(fake_telegram.sent()) == 1
    outcome = await result(redis_database, item)
    assert outcome["sent"] is False
    assert outcome["tries"] == 1


async def test_an_expired_callback_query_does_not_stop_the_messages(
    outbox: Outbox, fake_telegram: FakeTelegram, redis_database: RedisDatabase
) -> None:
    fake_telegram.fail["answerCallbackQuery"] = [400]
    await outbox.send(outgoing(callback_query_id="old"))
    done = await work(settings_for(fake_telegram, redis_database))
    assert done == {"complete": 1, "retried": 0, "failed": 0}
    assert len(fake_telegram.sent()) == 2


async def test_a_duplicate_key_is_sent_once(
    outbox: Outbox, fake_telegram: FakeTelegram, redis_database: RedisDatabase
) -> None:
    assert await outbox.send(outgoing("tg:77"))
    assert not await outbox.send(outgoing("tg:77"))  # queued already
    await work(settings_for(fake_telegram, redis_database))
    assert not await outbox.send(outgoing("tg:77"))  # sent already
    assert await outbox.send(outgoing("tg:78"))
    await work(settings_for(fake_telegram, redis_database))
    assert len(fake_telegram.sent()) == 4  # two messages for each key


async def test_without_a_bot_token_nothing_is_retried(
    outbox: Outbox, fake_telegram: FakeTelegram, redis_database: RedisDatabase
) -> None:
    item = outgoing()
    await outbox.send(item)
    done = await work(settings_for(fake_telegram, redis_database, telegram_bot_token=None))
    assert done["retried"] == 0
    assert fake_telegram.calls == []
    assert (await result(redis_database, item))["error"] == "GATEWAY_TELEGRAM_BOT_TOKEN is not set"


async def test_an_unreachable_provider_is_retried(
    outbox: Outbox, redis_database: RedisDatabase
) -> None:
    item = outgoing()
    await outbox.send(item)
    settings = Settings(
        redis_url=redis_database.url,
        telegram_bot_token=BOT_TOKEN,
        telegram_api_url="http://127.0.0.1:9",  # discard: nothing listens
        worker_poll_seconds=0.01,
        send_retry_seconds=0.01,
        send_max_tries=2,
    )
    done = await work(settings)
    assert done["retried"] == 1
    outcome = await result(redis_database, item)
    assert outcome == {"sent": False, "tries": 2, "error": "sendMessage: ConnectError"}
    assert BOT_TOKEN not in outcome["error"]


async def test_an_unreachable_queue_is_a_503() -> None:
    from fastapi import HTTPException

    box = Outbox("redis://127.0.0.1:9/0", "gateway:outbox")
    with pytest.raises(HTTPException) as refused:
        await box.send(outgoing())
    assert refused.value.status_code == 503
    await box.close()


def test_retry_after_headers_are_read_in_seconds() -> None:
    assert retry_after({"retry-after": "30"}) == 30.0
    assert retry_after({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}) == 0.0  # a date
    assert retry_after({}) == 0.0


def test_backoff_grows_fourfold_and_is_capped() -> None:
    assert [backoff(n, 5, 3600) for n in range(1, 7)] == [5, 20, 80, 320, 1280, 3600]


def test_the_worker_command_sends_what_is_queued(
    fake_telegram: FakeTelegram, redis_database: RedisDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:

    from typer.testing import CliRunner

    from gateway.cli.main import app

    async def enqueue() -> None:
        box = Outbox(redis_database.url, Settings().queue_name)
        await box.send(outgoing())
        await box.close()

    asyncio.run(enqueue())
    for name, value in {
        "GATEWAY_REDIS_URL": redis_database.url,
        "GATEWAY_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "GATEWAY_TELEGRAM_API_URL": fake_telegram.url,
        "GATEWAY_WORKER_POLL_SECONDS": "0.01",
    }.items():
        monkeypatch.setenv(name, value)
    outcome = CliRunner().invoke(app, ["worker", "--burst"])
    assert outcome.exit_code == 0, outcome.output
    assert len(fake_telegram.sent()) == 2
