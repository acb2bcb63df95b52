"""Repeated applications to one service: flagged to officers from the second, refused
past the submit step's limits.

Applications go through the conversation service, over SMS, into the real submission
store on SQLite (`Submissions(SubmissionStore(db), settings, dispatch)`), on a Redis of
the test's own. The census confirms every applicant (it holds the number they write
from), so each business registration is an instant one. The shipped services keep the
default limits: 3 applications per citizenship ID and 5 per number within 30 days.

A repeated application is flagged "repeat_id" (the same citizenship ID applied before)
and "repeat_phone" (the same number did), as the admin API shows them; past a limit the
citizen reads that they made too many applications, the conversation ends and nothing
is stored. The same application submitted again (a retried final answer) is not a
repeat, another service's applications do not count, and a database outage asks the
citizen to try again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from dialogs.catalog import Catalog
from dialogs.media import Medium
from dialogs.messages import LookupRequest, LookupResult, Reply, Submission, SubmissionResult
from dialogs.session import Snapshot
from gateway.app import create_app
from gateway.conversations.messages import Applicant, Message
from gateway.conversations.service import Conversations
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.submissions.service import Submissions, submission_data
from state.connect import connect
from state.database import Database, database_url
from state.store import SessionStore
from state.submissions import SubmissionRow, SubmissionStore, utcnow

REGISTRATION = "business-registration"
DRONES = "drone-flight-authorization"
NUMBERS = ["+97517111111", "+97577222222", "+97517333333", "+97577444444", "+97517555555"]
CIDS = ["11501001234", "11512000123", "10203004567", "11004005678", "12105006789", "11111111111"]
TOO_MANY = "You have made too many applications for this service lately. Please contact the office."
TRY_AGAIN = "We could not save your registration yet. Reply 1 to try again."
ADMIN = "admin-9d3b6f1e0c7a4285"


@dataclass
class Census:
    """Finds every citizenship ID, registered to the number set before each application."""

    mobile: str = ""

    async def lookup(self, request: LookupRequest) -> LookupResult:
        return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": self.mobile})


@dataclass
class Applying:
    """Citizens applying over SMS, and what the submission store keeps."""

    conversations: Conversations
    submissions: Submissions
    census: Census
    submitted: list[tuple[Submission, Applicant]] = field(default_factory=list)

    async def say(self, number: str, text: str, service: str | None = None) -> list[Reply]:
        return await self.conversations.handle(Message(number, Medium.SMS, text, service=service))

    async def apply(
        self, number: str, cid: str, service: str = REGISTRATION, name: str = "Pema Store"
    ) -> Reply:
        """One whole application from `number` for `cid`; the last reply."""
        self.census.mobile = number
        await self.say(number, "hi", service=service)
        replies: list[Reply] = []
        for answer in answers(service, cid, name):
            replies = await self.say(number, answer)
        return replies[-1]

    async def rows(self, service: str = REGISTRATION) -> list[dict[str, Any]]:
        """The service's submissions as the admin API shows them, oldest first."""
        listed = await self.submissions.store.listing(service=service)
        return [submission_data(row) for row in reversed(listed)]

    async def count(self) -> int:
        async with self.submissions.store.database.engine.connect() as connection:
            return int(await connection.scalar(select(func.count(SubmissionRow.id))) or 0)

    async def settled(self) -> None:
        """Wait for the notifications' queueing tasks the submissions started."""
        while self.submissions.queueing:
            await asyncio.sleep(0.01)


def answers(service: str, cid: str, name: str) -> list[str]:
    """The answers of a whole application, over SMS, after its first screen."""
    if service == DRONES:
        start = date.today() + timedelta(days=10)
        end = start + timedelta(days=2)
        days = [day.strftime("%d/%m/%Y") for day in (start, end)]
        return [cid, "DJI Mavic 3", "2", "1", "8", *days, "100", "1", "1"]
    return [cid, name, "1", "2", "14", "17123456", "1", "1"]


@pytest.fixture
async def applying(
    redis_url: str, tmp_path: Path, services_catalog: Catalog
) -> AsyncIterator[Applying]:
    database = Database(database_url(None, tmp_path / "var"))
    await database.migrate()
    store = SessionStore(connect(redis_url))
    dispatched: list[Sequence[int]] = []

    async def dispatch(ids: Sequence[int]) -> None:
        dispatched.append(ids)

    submissions = Submissions(SubmissionStore(database), Settings(var_dir=tmp_path), dispatch)
    census = Census()
    conversations = Conversations(
        services_catalog, store, status=submissions.status, lookup=census.lookup
    )
    harness = Applying(conversations, submissions, census)

    async def submit(effect: Submission, applicant: Applicant) -> SubmissionResult:
        harness.submitted.append((effect, applicant))
        return await submissions.submit(effect, applicant)

    conversations.submit = submit
    yield harness
    await harness.settled()
    await store.close()
    await database.close()


def registered(reply: Reply) -> bool:
    return reply.text.startswith("Registered! Number BR-")


async def test_a_first_application_is_not_flagged(applying: Applying) -> None:
    assert registered(await applying.apply(NUMBERS[0], CIDS[0]))
    (row,) = await applying.rows()
    assert row["flags"] == []
    assert (row["applicant_id"], row["phone"]) == (CIDS[0], NUMBERS[0])


async def test_a_second_application_by_one_citizenship_id_is_flagged_repeat_id(
    applying: Applying,
) -> None:
    await applying.apply(NUMBERS[0], CIDS[0])
    assert registered(await applying.apply(NUMBERS[1], CIDS[0]))
    assert [row["flags"] for row in await applying.rows()] == [[], ["repeat_id"]]


async def test_a_second_application_from_one_number_is_flagged_repeat_phone(
    applying: Applying,
) -> None:
    await applying.apply(NUMBERS[0], CIDS[0])
    assert registered(await applying.apply(NUMBERS[0], CIDS[1]))
    assert [row["flags"] for row in await applying.rows()] == [[], ["repeat_phone"]]


async def test_the_same_id_from_the_same_number_is_flagged_both_ways(applying: Applying) -> None:
    await applying.apply(NUMBERS[0], CIDS[0])
    await applying.apply(NUMBERS[0], CIDS[0], name="Pema Bakery")
    assert (await applying.rows())[-1]["flags"] == ["repeat_id", "repeat_phone"]


async def test_a_fourth_application_by_one_id_is_refused_and_nothing_is_stored(
    applying: Applying,
) -> None:
    for number in NUMBERS[:3]:
        assert registered(await applying.apply(number, CIDS[0]))
    refused = await applying.apply(NUMBERS[3], CIDS[0])
    assert refused == Reply(TOO_MANY, end=True)
    assert await applying.count() == 3
    record = await applying.conversations.store.read(NUMBERS[3])
    assert record is not None
    assert Snapshot.from_json(record.snapshot).ended
    # The conversation ended: the next message starts afresh, it does not submit again.
    assert (await applying.say(NUMBERS[3], "hi"))[0].text == "Government services. Choose one:"
    assert await applying.count() == 3


async def test_a_sixth_application_from_one_number_is_refused(applying: Applying) -> None:
    for cid in CIDS[:5]:
        assert registered(await applying.apply(NUMBERS[0], cid))
    flags = [row["flags"] for row in await applying.rows()]
    assert flags == [[]] + [["repeat_phone"]] * 4
    assert await applying.apply(NUMBERS[0], CIDS[5]) == Reply(TOO_MANY, end=True)
    assert await applying.count() == 5


async def test_applications_older_than_30_days_are_not_counted(applying: Applying) -> None:
    for number in NUMBERS[:3]:
        await applying.apply(number, CIDS[0])
    async with applying.submissions.store.database.engine.begin() as connection:
        await connection.execute(
            update(SubmissionRow).values(created_at=utcnow() - timedelta(days=31))
        )
    assert registered(await applying.apply(NUMBERS[0], CIDS[0]))
    assert (await applying.rows())[-1]["flags"] == []


async def test_a_retried_final_answer_is_not_counted_as_a_repeat(applying: Applying) -> None:
    """The third application is the last one allowed; its final answer handed over
    again (the same idempotency key: a retry after a lost reply) finds it stored."""
    for number in NUMBERS[:3]:
        await applying.apply(number, CIDS[0])
    effect, applicant = applying.submitted[-1]
    again = await applying.submissions.submit(effect, applicant)
    first = (await applying.rows())[-1]
    assert again == SubmissionResult(
        ok=True, reference=first["reference"], status="issued", link=again.link
    )
    assert again.refused == ""
    assert await applying.count() == 3
    assert first["flags"] == ["repeat_id"]


async def test_another_services_applications_do_not_count(applying: Applying) -> None:
    for _ in range(3):
        await applying.apply(NUMBERS[0], CIDS[0])
    reply = await applying.apply(NUMBERS[0], CIDS[0], service=DRONES)
    assert reply.text.startswith("Application DFA-"), reply.text
    (drone,) = await applying.rows(DRONES)
    assert drone["flags"] == []
    # ... and a drone application adds nothing to the registrations' count either.
    assert await applying.apply(NUMBERS[0], CIDS[0]) == Reply(TOO_MANY, end=True)


async def test_with_the_database_unavailable_the_citizen_is_asked_to_try_again(
    applying: Applying, tmp_path: Path
) -> None:
    working = applying.submissions.store
    gone = Database(f"sqlite+aiosqlite:///{tmp_path / 'no-such-folder' / 'gateway.db'}")
    applying.submissions.store = SubmissionStore(gone)
    try:
        reply = await applying.apply(NUMBERS[0], CIDS[0])
    finally:
        applying.submissions.store = working
        await gone.close()
    assert reply == Reply(TRY_AGAIN)
    assert await applying.count() == 0
    # The answers are kept: once the database is back, "1" submits them.
    assert registered((await applying.say(NUMBERS[0], "1"))[-1])
    assert await applying.count() == 1


# The flags as officers see them, through the app -------------------------------------------


def test_the_admin_api_shows_the_repeat_flags(redis_url: str, tmp_path: Path) -> None:
    census = Census(NUMBERS[0])
    settings = Settings(
        redis_url=redis_url,
        var_dir=tmp_path / "var",
        admin_token=ADMIN,
        ussd_codes={"*384*1#": REGISTRATION},
        ussd_allowed_ips=["127.0.0.1"],
        worker_in_process=False,
        relay_seconds=3600,
    )
    app = create_app(settings)
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        Runtime.of(app).conversations.lookup = census.lookup
        for session, cid in [("ATUid_r1", CIDS[0]), ("ATUid_r2", CIDS[0]), ("ATUid_r3", CIDS[1])]:
            text: list[str] = []
            for answer in ["", *answers(REGISTRATION, cid, "Pema Store")]:
                text = [*text, answer] if answer else text
                form = {
                    "sessionId": session,
                    "phoneNumber": NUMBERS[0],
                    "networkCode": "40201",
                    "serviceCode": "*384*1#",
                    "text": "*".join(text),
                }
                screen = client.post("/channels/ussd/africastalking", data=form).text
            assert screen.startswith("END Registered! Number BR-"), screen
        headers = {"Authorization": f"Bearer {ADMIN}"}
        listed = client.get("/api/v1/submissions", headers=headers).json()
        # The links owed are queued after each reply: let that finish before stopping.
        while Runtime.of(app).submissions.queueing:
            time.sleep(0.01)
    assert [s["flags"] for s in listed] == [  # newest first
        ["repeat_phone"],
        ["repeat_id", "repeat_phone"],
        [],
    ]
