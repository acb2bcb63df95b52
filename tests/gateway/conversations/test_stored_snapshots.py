"""Sessions stored by an earlier release resume: every mode the engine had, as Redis held
it (tests/fixtures/stored_snapshots), continues with the replies that release gave."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from dialogs.catalog import Catalog
from dialogs.messages import (
    Application,
    CheckCode,
    CodeChecked,
    CodeSent,
    Entity,
    LookupRequest,
    LookupResult,
    Meaning,
    SendCode,
    StatusRequest,
    StatusResult,
    Submission,
    SubmissionResult,
    reply_data,
)
from dialogs.session import Snapshot
from gateway.conversations.messages import Applicant, Message
from gateway.conversations.service import Conversations
from state.connect import connect
from state.store import SessionStore

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "stored_snapshots"
RECORDED = sorted(FIXTURES.glob("*.json"))
NOW = datetime(2026, 1, 15, 9, 30)
CLOCK = 1_768_469_400.0  # NOW in epoch seconds: the deadlines stored are still ahead
CENSUS_MOBILE = "+97517123456"
REGISTRATION = "business-registration"
MEANINGS = {
    meaning.text: meaning
    for meaning in (
        Meaning("I want to register my shop", REGISTRATION, 0.95, source="embedded"),
        Meaning("shop thing", REGISTRATION, 0.6, source="embedded"),
        Meaning("I want to fly a drone", "drone-flight-authorization", 0.95, source="embedded"),
        Meaning(
            "register my shop, my cid is 11512000123",
            REGISTRATION,
            0.95,
            entities=(Entity("cid", "11512000123"),),
            source="embedded",
        ),
    )
}


class Registries:
    """The fakes the sessions were recorded with."""

    def __init__(self, submit_ok: bool) -> None:
        self.submit_ok = submit_ok

    async def lookup(self, request: LookupRequest) -> LookupResult:
        return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": CENSUS_MOBILE})

    async def submit(self, submission: Submission, applicant: Applicant) -> SubmissionResult:
        if not self.submit_ok:
            return SubmissionResult(ok=False)
        link = "https://gateway.example.gov.bt/d/abc123"
        return SubmissionResult(ok=True, reference="BR-2026-000007", status="issued", link=link)

    async def status(self, request: StatusRequest, applicant: Applicant) -> StatusResult:
        issued = Application("BR-2026-000007", REGISTRATION, "issued")
        return StatusResult(ok=True, applications=(issued,))

    async def classify(self, text: str, lang: str) -> Meaning:
        return MEANINGS.get(text, Meaning(text, source="embedded"))

    async def send(self, effect: SendCode, applicant: Applicant) -> CodeSent:
        return CodeSent(ok=True)

    async def check(self, effect: CheckCode, applicant: Applicant) -> CodeChecked:
        if effect.code == "123456":
            return CodeChecked(ok=True)
        return CodeChecked(ok=False, reason="wrong", tries_left=4)


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[SessionStore]:
    session_store = SessionStore(connect(redis_url))
    try:
        yield session_store
    finally:
        await session_store.close()


def test_every_stored_mode_is_recorded() -> None:
    modes = {json.loads(path.read_text())["mode"] for path in RECORDED}
    stored = {"", "menu", "lang", "edit", "awaiting", "resume", "pick", "switch", "prefill"}
    assert modes == stored | {"phone", "code"}


@pytest.mark.parametrize("path", RECORDED, ids=[path.stem for path in RECORDED])
async def test_a_stored_session_continues_as_before(
    path: Path, redis_url: str, store: SessionStore, services_catalog: Catalog
) -> None:
    recorded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    citizen = recorded["citizen"]
    with redis.Redis.from_url(redis_url) as client:
        client.hset(SessionStore.keys(citizen)[0], mapping=recorded["stored"])
    fakes = Registries(submit_ok=recorded["submit_ok"][0])
    conversations = Conversations(
        services_catalog,
        store,
        submit=fakes.submit,
        status=fakes.status,
        lookup=fakes.lookup,
        classify=fakes.classify,
        verification=fakes,
        clock=lambda: CLOCK,
    )
    then = recorded["then"]
    replies = await conversations.handle(
        Message(
            citizen=citizen,
            medium=then["channel"],
            text=then["text"],
            session=then.get("session", ""),
            received=NOW,
            message_id=f"{path.stem}-next",
        )
    )

    assert [reply_data(reply) for reply in replies] == recorded["replies"]
    record = await store.begin(citizen, None, 1000)
    assert record.record is not None
    now = Snapshot.from_json(record.record.snapshot)
    after = recorded["after"]
    if after["ended"]:  # an ended conversation keeps its language alone (`retained`)
        gone: dict[str, Any] = {
            "service": None,
            "version": 0,
            "step": "",
            "answers": {},
            "trail": [],
        }
        after = {**after, **gone, "submission": None, "phone": ""}
    assert (now.service, now.version, now.step, now.ended, now.lang) == (
        after["service"],
        after["version"],
        after["step"],
        after["ended"],
        after["lang"],
    )
    assert (now.answers, list(now.trail), now.submission, now.phone) == (
        after["answers"],
        after["trail"],
        after["submission"],
        after["phone"],
    )
