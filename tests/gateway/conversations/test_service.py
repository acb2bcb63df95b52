"""The conversation service on the real Redis (127.0.0.1:6379, a database leased per test).

Concurrent answers, redelivered webhooks, drops and redials, expiry, version pinning and
the Redis round trips of one answer. Lookups and submissions are fakes that count calls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService
from dialogs.media import Medium
from dialogs.messages import (
    EffectResult,
    LookupRequest,
    LookupResult,
    Reply,
    Submission,
    SubmissionResult,
)
from dialogs.session import Snapshot
from gateway.conversations.messages import Applicant, Message
from gateway.conversations.service import MENU_RESUME_SECONDS, Conversations
from state.connect import connect
from state.store import SessionRecord, SessionStore
from tests.dialogs.helpers import CENSUS_MOBILE, compile_yaml
from tests.redis_databases import RedisDatabase
from tests.state import RoundTrips

CITIZEN = "+97517123456"
OTHER = "+97577654321"
T0 = 1_800_000_000.0  # the fixed "now" of the clock-driven tests
REGISTRATION = "business-registration"

NOTES = """\
format: 1
id: notes
version: 1
title: Notes
resume_minutes: 30
steps:
  - id: note
    type: text
    prompt: Next note?
    max_length: 30
    next: note
"""


def permit(version: int, resume_minutes: int) -> CompiledService:
    """A small service whose texts and steps differ between versions."""
    middle = "second" if version == 1 else "third"
    return compile_yaml(f"""\
        format: 1
        id: permit
        version: {version}
        title: Permit
        resume_minutes: {resume_minutes}
        steps:
          - id: first
            type: text
            prompt: First question v{version}?
          - id: {middle}
            type: text
            prompt: Next question v{version}?
          - id: done
            type: end
            prompt: "Done on v{version}, {{{{ answers.first }}}}."
        """)


@dataclass
class Registry:
    """Fake census lookups and submissions; counts what was performed."""

    submissions: list[Submission] = field(default_factory=list)
    lookups: list[LookupRequest] = field(default_factory=list)
    submit_delay: float = 0.0

    async def lookup(self, request: LookupRequest) -> EffectResult:
        self.lookups.append(request)
        return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": CENSUS_MOBILE})

    async def submit(self, submission: Submission, applicant: Applicant) -> SubmissionResult:
        self.submissions.append(submission)
        await asyncio.sleep(self.submit_delay)
        number = len(self.submissions)
        return SubmissionResult(ok=True, reference=f"BR-2026-{number:06d}", status="issued")


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(redis_database: RedisDatabase) -> AsyncIterator[SessionStore]:
    session_store = SessionStore(connect(redis_database.url))
    try:
        yield session_store
    finally:
        await session_store.close()


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def conversations(
    services_catalog: Catalog, store: SessionStore, registry: Registry, clock: Clock
) -> Conversations:
    return Conversations(
        services_catalog, store, submit=registry.submit, lookup=registry.lookup, clock=clock
    )


def text(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


async def say(
    conversations: Conversations,
    message: str,
    *,
    citizen: str = CITIZEN,
    channel: Medium = Medium.SMS,
    session: str = "",
    message_id: str | None = None,
    service: str | None = None,
) -> str:
    replies = await conversations.handle(
        Message(citizen, channel, message, message_id=message_id, session=session, service=service)
    )
    return text(replies)


async def snapshot(store: SessionStore, citizen: str = CITIZEN) -> Snapshot:
    record = await store.read(citizen)
    assert record is not None
    return Snapshot.from_json(record.snapshot)


async def events(store: SessionStore, citizen: str = CITIZEN) -> list[dict[str, Any]]:
    return [e for e in await store.events() if e.get("citizen") == citizen]


async def to_consent(
    conversations: Conversations, citizen: str, channel: Medium = Medium.SMS
) -> None:
    """Business registration up to the declaration, on SMS."""
    steps = [
        ("hi", "Enter your citizenship ID"),
        ("11501001234", "Welcome Pema Wangmo. Enter the name of your business"),
        ("Druk Bakery", "Type of business"),
        ("1", "Main activity"),
        ("6", "Dzongkhag of the business"),
        ("14", "Contact mobile number"),
        ("17123456", "Check your details"),
        ("1", "I declare the information is true"),
    ]
    for number, (message, expected) in enumerate(steps):
        reply = await say(
            conversations,
            message,
            citizen=citizen,
            channel=channel,
            message_id=f"{citizen}-{number}",
            service=REGISTRATION,
        )
        assert expected in reply


# ------------------------------------------------------------------ one at a time
async def test_fifty_concurrent_answers_apply_one_after_the_other(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A generous wait: on a slow machine the fiftieth answer waits for forty-nine others.
    conversations = Conversations(Catalog.of([compile_yaml(NOTES)]), store, wait_seconds=30)
    assert await say(conversations, "hi", message_id="SM-start") == "Next note?"

    committed: list[tuple[str | None, Snapshot]] = []
    original = store.commit

    async def spy(citizen: str, token: str, record: SessionRecord | None, **rest: Any) -> bool:
        saved = await original(citizen, token, record, **rest)
        if saved and record is not None:
            committed.append((rest["message_id"], Snapshot.from_json(record.snapshot)))
        return saved

    monkeypatch.setattr(store, "commit", spy)
    replies = await asyncio.gather(
        *(say(conversations, f"note {n}", message_id=f"SM{n}") for n in range(50))
    )

    assert replies == ["Next note?"] * 50  # every answer was taken, none refused
    # A linear history: each commit builds on the one before (the trail grows by one),
    # every message applied once, to the snapshot its own answer produced.
    assert [len(snap.trail) for _, snap in committed] == list(range(1, 51))
    assert sorted(message_id or "" for message_id, _ in committed) == sorted(
        f"SM{n}" for n in range(50)
    )
    for message_id, snap in committed:
        assert message_id is not None
        assert snap.answers == {"note": f"note {message_id.removeprefix('SM')}"}
    final = await snapshot(store)
    assert final == committed[-1][1]
    kinds = [e["event"] for e in await events(store)]
    assert kinds.count("answered") == 50
    assert kinds.count("started") == 1
    assert kinds.count("invalid") == 0


async def test_a_busy_citizen_does_not_delay_another(
    conversations: Conversations, store: SessionStore
) -> None:
    held = await store.begin(CITIZEN, None, 10_000)  # another worker is mid-answer
    assert held.token
    waiting = asyncio.create_task(say(conversations, "hi", message_id="A1"))

    started = time.monotonic()
    other = await say(conversations, "hi", citizen=OTHER, message_id="B1")
    elapsed = time.monotonic() - started
    assert "Government services. Choose one" in other
    assert elapsed < 0.5
    assert not waiting.done()  # the first citizen waits for their own previous answer

    await store.release(CITIZEN, held.token)
    assert "Government services. Choose one" in await asyncio.wait_for(waiting, 2)


async def test_many_citizens_at_once_do_not_queue_behind_each_other(
    conversations: Conversations, registry: Registry
) -> None:
    async def slow_lookup(request: LookupRequest) -> EffectResult:
        await asyncio.sleep(0.3)
        mobile = "+975" + request.url[-8:]  # each citizen's ID ends with their number
        return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": mobile})

    conversations.lookup = slow_lookup
    citizens = [f"+9751700{n:04d}" for n in range(20)]
    for citizen in citizens:
        await say(conversations, "hi", citizen=citizen, service=REGISTRATION)
    started = time.monotonic()
    replies = await asyncio.gather(
        *(say(conversations, "115" + c[-8:], citizen=c, service=REGISTRATION) for c in citizens)
    )
    assert all("Welcome Pema Wangmo" in reply for reply in replies)
    assert time.monotonic() - started < 1.5  # 20 lookups of 0.3 s ran side by side


# ------------------------------------------------------------------ idempotency
async def test_a_webhook_delivered_twice_has_one_effect(
    conversations: Conversations, registry: Registry, store: SessionStore
) -> None:
    await to_consent(conversations, CITIZEN)
    confirm = Message(CITIZEN, Medium.SMS, "1", message_id="SMconfirm")
    first = await conversations.handle(confirm)
    second = await conversations.handle(confirm)

    assert "Registered! Number BR-2026-000001" in text(first)
    assert second == first
    assert len(registry.submissions) == 1
    assert (await snapshot(store)).ended
    assert [e["event"] for e in await events(store)].count("submitted") == 1


async def test_a_webhook_delivered_ten_times_at_once_has_one_effect(
    conversations: Conversations, registry: Registry, store: SessionStore
) -> None:
    await to_consent(conversations, CITIZEN)
    registry.submit_delay = 0.05  # the deliveries overlap the submission
    confirm = Message(CITIZEN, Medium.SMS, "yes", message_id="wamid.HBgLOTc1MTcxMjM0NTY")
    results = await asyncio.gather(*(conversations.handle(confirm) for _ in range(10)))

    assert "Registered! Number BR-2026-000001" in text(results[0])
    assert all(result == results[0] for result in results)
    assert len(registry.submissions) == 1
    assert [e["event"] for e in await events(store)].count("submitted") == 1


async def test_an_old_message_redelivered_later_changes_nothing(
    conversations: Conversations, registry: Registry, store: SessionStore
) -> None:
    await to_consent(conversations, CITIZEN)
    before = await snapshot(store)
    replayed = await say(conversations, "11501001234", message_id=f"{CITIZEN}-1")
    assert "Welcome Pema Wangmo. Enter the name of your business" in replayed
    assert await snapshot(store) == before
    assert len(registry.lookups) == 1


# ------------------------------------------------------------------ drops
async def ussd_to_business_type(conversations: Conversations, session: str) -> None:
    assert "Government services. Choose one" in await say(
        conversations, "", channel=Medium.USSD, session=session
    )
    assert "Enter your citizenship ID" in await say(
        conversations, "2", channel=Medium.USSD, session=session
    )
    assert "Welcome Pema Wangmo" in await say(
        conversations, "11501001234", channel=Medium.USSD, session=session
    )
    assert "Type of business" in await say(
        conversations, "Druk Bakery", channel=Medium.USSD, session=session
    )


async def test_a_dropped_ussd_session_resumes_on_redial_and_finishes(
    conversations: Conversations, registry: Registry, store: SessionStore
) -> None:
    await ussd_to_business_type(conversations, "ATsession-1")
    # The session drops; the citizen dials again: a new USSD session id.
    offer = await conversations.handle(Message(CITIZEN, Medium.USSD, "", session="ATsession-2"))
    assert len(offer) == 1
    assert offer[0].text == "You have an unfinished application: Register a business. Continue?"
    assert [(o.key, o.label) for o in offer[0].options] == [("1", "Continue"), ("2", "Start again")]
    assert not offer[0].end

    async def dial(message: str) -> str:
        return await say(conversations, message, channel=Medium.USSD, session="ATsession-2")

    assert (await dial("1")).startswith("Type of business")  # the same step
    assert (await snapshot(store)).answers["business_name"] == "Druk Bakery"
    assert (await dial("1")).startswith("Main activity")
    assert (await dial("6")).startswith("Dzongkhag of the business")
    assert (await dial("14")).startswith("Contact mobile number")
    assert "Business name: Druk Bakery" in await dial("17123456")
    assert "I declare" in await dial("1")
    final = await conversations.handle(Message(CITIZEN, Medium.USSD, "1", session="ATsession-2"))
    assert final[-1].end
    assert "Registered! Number BR-2026-000001" in text(final)
    assert len(registry.submissions) == 1
    assert registry.submissions[0].answers["business_name"] == "Druk Bakery"
    kinds = [e["event"] for e in await events(store)]
    assert kinds.count("started") == 1
    assert "resume_offered" in kinds
    assert "resumed" in kinds
    assert kinds[-1] == "completed"


async def test_start_again_after_a_redial_begins_the_service_afresh(
    conversations: Conversations, store: SessionStore
) -> None:
    await ussd_to_business_type(conversations, "s1")
    assert "unfinished application" in await say(
        conversations, "", channel=Medium.USSD, session="s2"
    )
    restarted = await say(conversations, "2", channel=Medium.USSD, session="s2")
    assert restarted.startswith("Enter your citizenship ID")
    fresh = await snapshot(store)
    assert (fresh.service, fresh.step, fresh.answers) == (REGISTRATION, "cid", {})
    assert "restarted" in [e["event"] for e in await events(store)]


async def test_the_same_ussd_session_is_not_asked_to_resume(
    conversations: Conversations,
) -> None:
    await ussd_to_business_type(conversations, "s1")
    assert (await say(conversations, "1", channel=Medium.USSD, session="s1")).startswith(
        "Main activity"
    )


async def test_a_dropped_ussd_application_continues_by_sms(
    conversations: Conversations, store: SessionStore
) -> None:
    await ussd_to_business_type(conversations, "s1")
    continued = await say(conversations, "hello", channel=Medium.SMS)
    assert continued.startswith(
        "Continuing your unfinished application: Register a business.\nType of business"
    )
    assert (await say(conversations, "1", channel=Medium.SMS)).startswith("Main activity")
    record = await store.read(CITIZEN)
    assert record is not None
    assert record.channel == "sms"
    assert Snapshot.from_json(record.snapshot).answers["business_name"] == "Druk Bakery"
    resumed = [e for e in await events(store) if e["event"] == "resumed"]
    assert [(e["how"], e["channel"], e["step"]) for e in resumed] == [
        ("channel", "sms", "business_type")
    ]


# ------------------------------------------------------------------ expiry
async def test_a_sweep_after_the_deadline_records_the_drop_off_and_starts_afresh(
    conversations: Conversations, store: SessionStore, clock: Clock
) -> None:
    await ussd_to_business_type(conversations, "s1")
    window = 24 * 3600  # business-registration keeps the default resume window
    record = await store.read(CITIZEN)
    assert record is not None
    assert record.deadline == T0 + window

    clock.now = T0 + window - 1
    assert await conversations.sweep() == 0
    assert await store.read(CITIZEN) is not None

    clock.now = T0 + window + 1
    assert await conversations.sweep() == 1
    assert await store.read(CITIZEN) is None
    expired = (await events(store))[-1]
    assert expired["event"] == "expired"
    assert (expired["service"], expired["version"], expired["step"]) == (
        REGISTRATION,
        1,
        "business_type",
    )
    assert await conversations.sweep() == 0  # once only
    assert [e["event"] for e in await events(store)].count("expired") == 1

    fresh = await say(conversations, "", channel=Medium.USSD, session="s2")
    assert fresh.startswith("Government services. Choose one")
    assert "unfinished" not in fresh


async def test_an_answer_after_the_deadline_but_before_a_sweep_starts_afresh(
    conversations: Conversations, store: SessionStore, clock: Clock
) -> None:
    await ussd_to_business_type(conversations, "s1")
    clock.now = T0 + 24 * 3600 + 60
    fresh = await say(conversations, "1", channel=Medium.SMS)
    assert "Continuing" not in fresh
    assert (await snapshot(store)).service is None  # the main menu
    kinds = [e["event"] for e in await events(store)]
    assert kinds.count("expired") == 1
    assert await conversations.sweep() == 0  # nothing left to expire


async def test_an_ended_conversation_is_never_swept(
    conversations: Conversations, store: SessionStore, clock: Clock
) -> None:
    await to_consent(conversations, CITIZEN)
    await say(conversations, "1", message_id="SMlast")
    clock.now = T0 + 365 * 24 * 3600
    assert await conversations.sweep() == 0
    assert "expired" not in [e["event"] for e in await events(store)]


# ------------------------------------------------------------------ retention
async def test_an_ended_conversation_keeps_its_language_and_nothing_typed(
    store: SessionStore, clock: Clock
) -> None:
    """Remembered for 30 days after it ends, for the language of the next one: none of
    the answers, and none of the USSD text the aggregator accumulated."""
    conversations = Conversations(Catalog.of([permit(1, 10)]), store, clock=clock)
    dialled = [("", "First question v1?"), ("Pema", "Next question v1?")]
    for text, screen in dialled:
        message = Message(
            CITIZEN, Medium.USSD, text, session="ATUid_7", lang="dz", accumulated=True
        )
        assert (await conversations.handle(message))[0].text == screen
    last = Message(
        CITIZEN, Medium.USSD, "Pema*Thimphu", session="ATUid_7", lang="dz", accumulated=True
    )
    assert (await conversations.handle(last))[-1].end
    stored = await store.client.hgetall(store.keys(CITIZEN)[0])  # type: ignore[misc]
    assert stored
    kept = b" ".join(stored.values())
    assert b"Pema" not in kept
    assert b"Thimphu" not in kept
    assert b"ATUid_7" not in kept
    ended = await snapshot(store)
    assert (ended.ended, ended.lang, ended.answers, ended.service) == (True, "dz", {}, None)
    ttl = await store.client.ttl(store.keys(CITIZEN)[0])
    assert 30 * 86400 <= ttl <= 31 * 86400
    # The next conversation starts afresh, in the language kept.
    again = await conversations.handle(Message(CITIZEN, Medium.SMS, "hi"))
    assert again[0].text == "First question v1?"
    assert (await snapshot(store)).lang == "dz"


# ------------------------------------------------------------------ versions
async def test_a_session_finishes_on_its_version_and_old_versions_are_released_later(
    store: SessionStore, clock: Clock
) -> None:
    conversations = Conversations(Catalog.of([permit(1, 10)]), store, clock=clock)
    assert await say(conversations, "hi") == "First question v1?"
    assert await say(conversations, "Pema") == "Next question v1?"

    clock.now = T0 + 60
    conversations.catalog = conversations.catalog.publish(permit(2, 10))
    assert await say(conversations, "hi", citizen=OTHER) == "First question v2?"
    assert (await snapshot(store, OTHER)).version == 2

    assert (await snapshot(store)).version == 1
    conversations.release_versions(clock.now)
    assert conversations.catalog.get("permit", 1) is not None  # still in use
    finished = await conversations.handle(Message(CITIZEN, Medium.SMS, "Thimphu"))
    assert finished == [Reply("Done on v1, Pema.", end=True)]
    ended = await snapshot(store)
    assert ended.ended
    assert ended.answers == {}  # no answer outlives the conversation in Redis

    longest = 10 * 60
    conversations.release_versions(clock.now + longest + MENU_RESUME_SECONDS - 1)
    assert conversations.catalog.get("permit", 1) is not None
    conversations.release_versions(clock.now + longest + MENU_RESUME_SECONDS + 1)
    assert conversations.catalog.get("permit", 1) is None
    assert conversations.catalog.get("permit", 2) is not None
    assert ("permit", 1) not in conversations.version_use
    conversations.release_versions(clock.now + 10 * longest + MENU_RESUME_SECONDS)
    assert conversations.catalog.get("permit", 2) is not None  # published: always kept


async def test_an_old_version_stays_while_its_own_resume_window_is_open(
    store: SessionStore, clock: Clock
) -> None:
    # v1 lets an application be continued for 3 hours; v2 only for 10 minutes.
    conversations = Conversations(Catalog.of([permit(1, 180)]), store, clock=clock)
    await say(conversations, "hi")
    assert await say(conversations, "Pema") == "Next question v1?"
    conversations.catalog = conversations.catalog.publish(permit(2, 10))

    clock.now = T0 + 2 * 3600  # within v1's window: the application can still go on
    conversations.release_versions(clock.now)
    assert conversations.catalog.get("permit", 1) is not None
    assert await say(conversations, "Thimphu") == "Done on v1, Pema."


# ------------------------------------------------------------------ round trips
async def test_a_plain_answer_costs_at_most_two_round_trips(
    conversations: Conversations, monkeypatch: pytest.MonkeyPatch
) -> None:
    await say(conversations, "hi", message_id="SM1", service=REGISTRATION)
    await say(conversations, "11501001234", message_id="SM2", service=REGISTRATION)
    trips = RoundTrips(monkeypatch)
    answer = await say(conversations, "Druk Bakery", message_id="SM3", service=REGISTRATION)
    assert answer.startswith("Type of business")
    assert trips.reset() <= 2
    # A redelivered webhook is answered from the first round trip alone.
    await say(conversations, "Druk Bakery", message_id="SM3", service=REGISTRATION)
    assert trips.reset() == 1
