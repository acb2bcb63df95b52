"""The FastAPI app on embedded defaults."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dialogs.media import Medium
from gateway.app import create_app
from gateway.background import cancel as _cancel
from gateway.conversations.messages import Message
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.redis_databases import RedisDatabase


def test_health_and_services(services_dir: Path) -> None:
    client = TestClient(create_app(Settings(services_dir=services_dir)))
    assert client.get("/healthz").json() == {"status": "ok"}
    services = client.get("/api/v1/services").json()
    assert services == [
        {"id": "greeting", "version": 2, "title": "Say hello", "languages": ["en"], "steps": 3}
    ]
    assert client.get("/api/v1/services/problems").json() == []
    assert client.get("/openapi.json").status_code == 200


def test_problems_are_listed_and_broken_services_not_published(services_dir: Path) -> None:
    (services_dir / "broken.yaml").write_text("format: 1\nid: broken\n", encoding="utf-8")
    client = TestClient(create_app(Settings(services_dir=services_dir)))
    assert [s["id"] for s in client.get("/api/v1/services").json()] == ["greeting"]
    problems = client.get("/api/v1/services/problems").json()
    assert {p["code"] for p in problems} == {"E010"}
    assert all(p["file"].endswith("broken.yaml") and p["severity"] == "error" for p in problems)
    # Fixed in the folder (before any reload): the list says what the folder holds now.
    (services_dir / "broken.yaml").unlink()
    assert client.get("/api/v1/services/problems").json() == []


@pytest.mark.integration  # the embedded redis-server the app starts
def test_the_embedded_redis_serves_conversations_by_default(
    services_dir: Path, tmp_path: Path
) -> None:
    app = create_app(Settings(services_dir=services_dir, var_dir=tmp_path / "var"))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        conversations = Runtime.of(app).conversations
        portal = client.portal
        assert portal is not None
        replies = portal.call(
            conversations.handle, Message("+97517123456", Medium.SMS, "hi", message_id="SM1")
        )
        assert [r.text for r in replies] == ["What is your name?"]
        again = portal.call(
            conversations.handle, Message("+97517123456", Medium.SMS, "hi", message_id="SM1")
        )
        assert again == replies
        assert (tmp_path / "var" / "redis" / "redis.sock").exists()
    assert not (tmp_path / "var" / "redis" / "redis.sock").exists()  # stopped with the app


def test_a_configured_redis_url_is_used(services_dir: Path, redis_database: RedisDatabase) -> None:
    app = create_app(Settings(services_dir=services_dir, redis_url=redis_database.url))
    with TestClient(app) as client:
        store = Runtime.of(app).conversations.store
        assert client.portal is not None
        assert client.portal.call(store.ping)
        assert "127.0.0.1" in str(store.client.connection_pool.connection_kwargs["host"])


async def test_shutdown_ends_a_loop_that_lost_its_cancellation() -> None:
    """A library may drop a cancellation (Python 3.11's wait_for in redis-py and arq):
    the app asks again until its background loops have ended."""
    lost = 0

    async def loop_forever() -> None:
        nonlocal lost
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if lost == 0:  # dropped once, as wait_for does
                    lost += 1
                    asyncio.current_task().uncancel()  # type: ignore[union-attr]
                    continue
                raise

    task = asyncio.create_task(loop_forever())
    await asyncio.sleep(0.02)
    await asyncio.wait_for(_cancel([task]), 10)
    assert task.cancelled()
    assert lost == 1
