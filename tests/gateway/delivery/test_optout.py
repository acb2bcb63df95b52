"""STOP / START on SMS and WhatsApp: honoured, recorded, and nothing else is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialogs.media import Medium
from dialogs.messages import LookupRequest, LookupResult
from gateway.catalog.repository import load_repository
from gateway.conversations.messages import Message
from gateway.conversations.service import Conversations
from state.connect import connect
from state.store import SessionStore
from tests.redis_databases import RedisDatabase

CITIZEN = "+97517654321"


async def census(request: LookupRequest) -> LookupResult:
    return LookupResult(ok=True, data={"name": "Karma", "mobile": CITIZEN})


@pytest.fixture
async def conversations(redis_database: RedisDatabase) -> AsyncIterator[Conversations]:
    store = SessionStore(connect(redis_database.url))
    catalog = load_repository([Path("services")]).catalog
    yield Conversations(catalog, store, lookup=census)
    await store.close()


def message(text: str, channel: Medium = Medium.SMS, number: int = 0) -> Message:
    return Message(
        CITIZEN, channel, text, message_id=f"SM{number}-{text}", service="business-registration"
    )


async def test_stop_confirms_then_silence_until_start(conversations: Conversations) -> None:
    first = await conversations.handle(message("hi", number=1))
    assert first[0].text == "Enter your citizenship ID (11 digits)"
    stopped = await conversations.handle(message("STOP", number=2))
    assert [r.text for r in stopped] == [
        "You will receive no more messages from this service. Reply START to receive them again."
    ]
    assert await conversations.handle(message("11501001234", number=3)) == []
    assert await conversations.handle(message("hello?", channel=Medium.WHATSAPP, number=4)) == []
    started = await conversations.handle(message("start", number=5))
    assert [r.text for r in started] == ["Welcome back. Send any message to start."]
    after = await conversations.handle(message("11501001234", number=6))
    assert after[0].text == "Welcome Karma. Enter the name of your business"
    kinds = [e["event"] for e in await conversations.store.events()]
    assert "opted_out" in kinds
    assert "opted_in" in kinds


async def test_stop_on_ussd_is_an_ordinary_command(conversations: Conversations) -> None:
    await conversations.handle(
        Message(CITIZEN, Medium.USSD, "", session="S1", service="business-registration")
    )
    replies = await conversations.handle(
        Message(CITIZEN, Medium.USSD, "stop", session="S1", service="business-registration")
    )
    assert replies[0].text == "Goodbye. Dial again any time."
    assert replies[0].end
