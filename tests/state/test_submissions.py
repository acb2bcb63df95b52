"""The submission store: one suite on a new SQLite file and on the real PostgreSQL.

Every test checks what is stored (rows, figures, references), never which function ran.
Concurrency runs on two `Database` objects over the same URL: two workers' engines.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from state import (  # noqa: F401  (their tables join Base.metadata: migrations test)
    accounts,
    api_keys,
    audit,
    consent,
    desk,
    events,
    studio,
    timeline,
)
from state.database import Base, Database
from state.submissions import (
    DocumentRow,
    NewSubmission,
    NotificationRow,
    Owed,
    ReferenceCounter,
    Stored,
    SubmissionRow,
    SubmissionStore,
)

CITIZEN = "+97517123456"
WEBHOOK = "https://backoffice.example.gov.bt/hooks/submissions"


def new(
    key: str,
    *,
    mode: str = "instant",
    prefix: str = "BR",
    service: str = "birth-registration",
    citizen: str = CITIZEN,
    answers: dict[str, Any] | None = None,
) -> NewSubmission:
    return NewSubmission(
        idempotency_key=key,
        service=service,
        version=3,
        mode=mode,
        reference_prefix=prefix,
        citizen=citizen,
        channel="ussd",
        lang="dz",
        answers={"child": "Pema", "dzongkhag": "Thimphu"} if answers is None else answers,
        document={"title": "Birth certificate"} if mode == "instant" else None,
    )


def owed(text: str = "document_ready") -> list[Owed]:
    return [
        Owed("message", "sms", CITIZEN, {"text": text, "values": {}, "token": None}),
        Owed("webhook", "webhook", WEBHOOK, {"event": text}),
    ]


def reference(prefix: str, number: int, year: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


def numbers(found: Sequence[Stored | SubmissionRow]) -> list[int]:
    """The counter part of each reference (`BR-2026-000012` -> 12), sorted."""
    rows = [s.submission if isinstance(s, Stored) else s for s in found]
    return sorted(int(row.reference.rsplit("-", 1)[1]) for row in rows)


async def count(database: Database, model: type[Base]) -> int:
    async with database.sessions() as session:
        found = await session.scalar(select(func.count()).select_from(model))
    assert found is not None
    return int(found)


async def all_submissions(database: Database) -> list[SubmissionRow]:
    async with database.sessions() as session:
        return list((await session.scalars(select(SubmissionRow).order_by(SubmissionRow.id))).all())


async def notifications_of(database: Database, submission_id: int) -> list[NotificationRow]:
    async with database.sessions() as session:
        rows = await session.scalars(
            select(NotificationRow)
            .where(NotificationRow.submission_id == submission_id)
            .order_by(NotificationRow.id)
        )
        return list(rows.all())


@pytest.fixture
async def other(database: Database) -> AsyncIterator[Database]:
    """A second worker's engine on the same database (for SQLite: the same file)."""
    second = Database(database.engine.url.render_as_string(hide_password=False))
    try:
        yield second
    finally:
        await second.close()


# ---------------------------------------------------------------------- submit


async def test_an_instant_submission_is_issued_with_its_document_and_notifications(
    database: Database,
) -> None:
    store = SubmissionStore(database, document_days=30)
    stored = await store.submit(new("conv1:run1:final"), owed(), token="tok-certificate-1")

    row = stored.submission
    year = row.created_at.year
    assert stored.created is True
    assert stored.token == "tok-certificate-1"
    assert row.reference == reference("BR", 1, year)
    assert row.status == "issued"
    assert (row.service, row.version, row.mode) == ("birth-registration", 3, "instant")
    assert (row.citizen, row.channel, row.lang) == (CITIZEN, "ussd", "dz")
    assert row.answers == {"child": "Pema", "dzongkhag": "Thimphu"}
    assert row.document == {"title": "Birth certificate"}
    assert row.decided_at is None
    assert row.reason is None

    stored_rows = await all_submissions(database)
    assert [(r.reference, r.status, r.answers) for r in stored_rows] == [
        (reference("BR", 1, year), "issued", {"child": "Pema", "dzongkhag": "Thimphu"})
    ]

    found = await store.document("tok-certificate-1")
    assert found is not None
    document, owner = found
    assert owner.id == row.id
    assert owner.reference == row.reference
    assert document.kind == "certificate"
    assert document.revoked_at is None
    assert document.expires_at - document.created_at == timedelta(days=30)
    assert await store.token_for(row.id) == "tok-certificate-1"
    assert await store.document("no-such-token") is None

    notes = await notifications_of(database, row.id)
    assert [n.id for n in notes] == list(stored.notifications)
    assert [(n.event, n.kind, n.channel, n.address, n.payload) for n in notes] == [
        (
            "submitted",
            "message",
            "sms",
            CITIZEN,
            {"text": "document_ready", "values": {}, "token": None},
        ),
        ("submitted", "webhook", "webhook", WEBHOOK, {"event": "document_ready"}),
    ]
    assert all(n.status == "pending" and n.attempts == 0 for n in notes)
    assert all(n.sent_at is None and n.last_error is None for n in notes)


async def test_a_review_submission_is_pending_without_a_document(database: Database) -> None:
    store = SubmissionStore(database)
    stored = await store.submit(
        new("conv2:run1:final", mode="review"), owed("received"), token=None
    )

    assert stored.created is True
    assert stored.token is None
    assert stored.submission.status == "pending"
    assert stored.submission.reference == reference("BR", 1, stored.submission.created_at.year)
    assert await store.documents_of(stored.submission.id) == []
    assert await store.token_for(stored.submission.id) is None
    assert len(await notifications_of(database, stored.submission.id)) == 2


async def test_references_count_up_per_submission(database: Database) -> None:
    store = SubmissionStore(database)
    first = await store.submit(new("k1"), [], token="t1")
    second = await store.submit(new("k2", mode="review"), [], token=None)
    third = await store.submit(new("k3"), [], token="t3")
    year = first.submission.created_at.year
    assert [s.submission.reference for s in (first, second, third)] == [
        reference("BR", 1, year),
        reference("BR", 2, year),
        reference("BR", 3, year),
    ]
    async with database.sessions() as session:
        counter = await session.get(ReferenceCounter, ("BR", year))
    assert counter is not None
    assert counter.value == 3


# ---------------------------------------------------------------------- idempotency


async def test_the_same_idempotency_key_returns_the_first_submission(database: Database) -> None:
    store = SubmissionStore(database)
    first = await store.submit(new("conv3:run1:final"), owed(), token="first-token")

    again = await store.submit(
        new("conv3:run1:final", answers={"child": "Someone else"}),
        [*owed(), Owed("message", "whatsapp", "+97577000000", {"text": "x"})],
        token="second-token",
    )

    assert again.created is False
    assert again.token == "first-token"
    assert again.submission.id == first.submission.id
    assert again.submission.reference == first.submission.reference
    assert again.submission.answers == {"child": "Pema", "dzongkhag": "Thimphu"}
    assert again.notifications == ()
    assert await count(database, SubmissionRow) == 1
    assert await count(database, NotificationRow) == 2
    assert await count(database, DocumentRow) == 1
    assert await store.document("second-token") is None

    # The repeat took no number: the next new submission is the second.
    nxt = await store.submit(new("conv4:run1:final"), [], token="t4")
    assert nxt.submission.reference == reference("BR", 2, first.submission.created_at.year)


# ---------------------------------------------------------------------- concurrency


async def test_concurrent_submissions_on_two_workers_get_unique_gapless_references(
    database: Database, other: Database
) -> None:
    stores = (SubmissionStore(database), SubmissionStore(other))
    results = await asyncio.gather(
        *(
            stores[i % 2].submit(
                new(f"conv{i}:run1:final", citizen=f"+9751700{i:04d}"), owed(), token=f"tok-{i}"
            )
            for i in range(40)
        )
    )

    year = results[0].submission.created_at.year
    assert all(r.created for r in results)
    assert numbers(results) == list(range(1, 41))
    rows = await all_submissions(database)
    assert sorted(r.reference for r in rows) == [reference("BR", n, year) for n in range(1, 41)]
    assert len({r.citizen for r in rows}) == 40
    # Each submission kept its own document and notifications.
    assert await count(database, DocumentRow) == 40
    assert await count(database, NotificationRow) == 80
    for i, result in enumerate(results):
        assert await stores[0].token_for(result.submission.id) == f"tok-{i}"


async def test_prefixes_count_separately(database: Database, other: Database) -> None:
    stores = (SubmissionStore(database), SubmissionStore(other))
    results = await asyncio.gather(
        *(
            stores[i % 2].submit(
                new(f"k{i}", prefix="BR" if i % 3 else "DF", service=f"s{i % 3}"),
                [],
                token=None,
            )
            for i in range(12)
        )
    )
    year = results[0].submission.created_at.year
    by_prefix: dict[str, list[str]] = {"BR": [], "DF": []}
    for result in results:
        by_prefix[result.submission.reference.split("-")[0]].append(result.submission.reference)
    assert sorted(by_prefix["DF"]) == [reference("DF", n, year) for n in range(1, 5)]
    assert sorted(by_prefix["BR"]) == [reference("BR", n, year) for n in range(1, 9)]


async def test_concurrent_submits_of_the_same_key_create_one_submission(
    database: Database, other: Database
) -> None:
    stores = (SubmissionStore(database), SubmissionStore(other))
    results = await asyncio.gather(
        *(
            stores[i % 2].submit(new("conv5:run1:final"), owed(), token=f"same-key-{i}")
            for i in range(10)
        )
    )

    assert sum(r.created for r in results) == 1
    (winner,) = (r for r in results if r.created)
    assert {r.submission.id for r in results} == {winner.submission.id}
    assert {r.submission.reference for r in results} == {winner.submission.reference}
    assert {r.token for r in results} == {winner.token}
    assert await count(database, SubmissionRow) == 1
    assert await count(database, DocumentRow) == 1
    assert await count(database, NotificationRow) == 2
    # The losers' numbers were given back: the next submission is the second.
    nxt = await stores[1].submit(new("conv6:run1:final"), [], token=None)
    assert nxt.submission.reference == reference("BR", 2, winner.submission.created_at.year)


async def test_references_grow_a_seventh_digit(database: Database) -> None:
    store = SubmissionStore(database)
    first = await store.submit(new("first"), [], token=None)
    year = first.submission.created_at.year
    async with database.engine.begin() as connection:
        await connection.execute(update(ReferenceCounter).values(value=999_998))
    assert (await store.submit(new("last"), [], token=None)).submission.reference == (
        f"BR-{year}-999999"
    )
    assert (await store.submit(new("big"), [], token=None)).submission.reference == (
        f"BR-{year}-1000000"
    )


# ---------------------------------------------------------------------- rollback


async def _fail_to_notify(
    self: SubmissionStore,
    connection: AsyncConnection,
    submission_id: int,
    event: str,
    owed: Sequence[Owed],
    now: datetime,
) -> tuple[int, ...]:
    # The submission and document rows are written by now; then the transaction fails.
    raise RuntimeError("the notifications could not be written")


async def test_a_failed_submission_gives_its_number_back(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SubmissionStore(database)
    first = await store.submit(new("ok-1"), owed(), token="t-ok-1")

    if database.engine.dialect.name == "postgresql":
        # One statement writes it all: a notification the database refuses (an address
        # longer than its column) undoes the submission and the document before it.
        refused = [Owed("message", "sms", "+975" + "1" * 300, {"text": "document_ready"})]
        with pytest.raises(DBAPIError, match="too long"):
            await store.submit(new("fails"), refused, token="t-fails")
    else:
        with monkeypatch.context() as patch:
            patch.setattr(SubmissionStore, "add_notifications", _fail_to_notify)
            with pytest.raises(RuntimeError, match="could not be written"):
                await store.submit(new("fails"), owed(), token="t-fails")

    assert await store.by_key("fails") is None
    assert await store.document("t-fails") is None
    assert await count(database, SubmissionRow) == 1
    assert await count(database, NotificationRow) == 2
    assert await count(database, DocumentRow) == 1

    nxt = await store.submit(new("ok-2"), owed(), token="t-ok-2")
    assert nxt.submission.reference == reference("BR", 2, first.submission.created_at.year)


async def test_a_submission_refused_by_the_database_gives_its_number_back(
    database: Database,
) -> None:
    store = SubmissionStore(database)
    first = await store.submit(new("ok-1"), [], token="taken")

    # A document token already in use: the database refuses the whole transaction.
    with pytest.raises(IntegrityError):
        await store.submit(new("refused"), owed(), token="taken")

    assert await store.by_key("refused") is None
    assert await count(database, SubmissionRow) == 1
    assert await count(database, NotificationRow) == 0
    nxt = await store.submit(new("ok-2"), [], token=None)
    assert nxt.submission.reference == reference("BR", 2, first.submission.created_at.year)


async def test_concurrent_failures_leave_no_gap(database: Database, other: Database) -> None:
    stores = (SubmissionStore(database), SubmissionStore(other))
    first = await stores[0].submit(new("first"), [], token="taken")

    async def attempt(i: int) -> Stored | None:
        token = "taken" if i % 4 == 0 else f"tok-{i}"
        try:
            return await stores[i % 2].submit(
                new(f"k{i}", citizen=f"+97517{i:06d}"), [], token=token
            )
        except IntegrityError:
            return None

    results = await asyncio.gather(*(attempt(i) for i in range(20)))

    stored = [r for r in results if r is not None]
    assert len(stored) == 15  # the five with the taken token failed
    assert numbers(stored) == list(range(2, 17))
    assert numbers(await all_submissions(database)) == list(range(1, 17))
    year = first.submission.created_at.year
    async with database.sessions() as session:
        counter = await session.get(ReferenceCounter, ("BR", year))
    assert counter is not None
    assert counter.value == 16


# ---------------------------------------------------------------------- decide


async def test_approving_a_pending_submission_issues_the_permit(database: Database) -> None:
    store = SubmissionStore(database, document_days=90)
    submitted = await store.submit(new("review-1", mode="review"), owed("received"), token=None)
    ref = submitted.submission.reference

    decided = await store.decide(
        ref, approve=True, reason=None, owed=owed("approved"), token="permit-1"
    )

    assert decided is not None
    assert decided.created is True
    assert decided.token == "permit-1"
    row = decided.submission
    assert row.id == submitted.submission.id
    assert row.status == "approved"
    assert row.decided_at is not None
    assert row.decided_at >= submitted.submission.created_at
    assert row.reason is None

    stored = await store.by_reference(ref)
    assert stored is not None
    assert stored.status == "approved"
    assert stored.decided_at == row.decided_at

    found = await store.document("permit-1")
    assert found is not None
    document, owner = found
    assert (document.kind, owner.id, document.revoked_at) == ("permit", row.id, None)
    assert document.expires_at - document.created_at == timedelta(days=90)
    assert await store.token_for(row.id) == "permit-1"

    notes = await notifications_of(database, row.id)
    assert [(n.event, n.kind, n.status, n.attempts) for n in notes] == [
        ("submitted", "message", "pending", 0),
        ("submitted", "webhook", "pending", 0),
        ("approved", "message", "pending", 0),
        ("approved", "webhook", "pending", 0),
    ]
    assert [n.id for n in notes[2:]] == list(decided.notifications)
    assert notes[3].payload == {"event": "approved"}


@pytest.mark.parametrize("approve_again", [True, False])
async def test_a_second_decision_changes_nothing(database: Database, approve_again: bool) -> None:
    store = SubmissionStore(database)
    submitted = await store.submit(new("review-2", mode="review"), [], token=None)
    ref = submitted.submission.reference
    first = await store.decide(ref, approve=True, reason=None, owed=owed("approved"), token="p1")
    assert first is not None

    again = await store.decide(
        ref,
        approve=approve_again,
        reason="Incomplete documents",
        owed=owed("approved" if approve_again else "rejected"),
        token="p2",
    )

    assert again is not None
    assert again.created is False
    assert again.notifications == ()
    assert again.token == "p1"
    assert again.submission.status == "approved"
    assert again.submission.reason is None
    assert again.submission.decided_at == first.submission.decided_at
    stored = await store.by_reference(ref)
    assert stored is not None
    assert (stored.status, stored.reason, stored.decided_at) == (
        "approved",
        None,
        first.submission.decided_at,
    )
    assert await store.document("p2") is None
    assert [d.token for d in await store.documents_of(stored.id)] == ["p1"]
    assert [n.event for n in await notifications_of(database, stored.id)] == [
        "approved",
        "approved",
    ]


async def test_rejecting_stores_the_reason_and_issues_no_document(database: Database) -> None:
    store = SubmissionStore(database)
    submitted = await store.submit(new("review-3", mode="review"), [], token=None)
    ref = submitted.submission.reference

    decided = await store.decide(
        ref, approve=False, reason="Photo unreadable", owed=owed("rejected"), token="unused"
    )

    assert decided is not None
    assert decided.created is True
    assert decided.token is None
    assert decided.submission.status == "rejected"
    assert decided.submission.reason == "Photo unreadable"
    assert decided.submission.decided_at is not None
    stored = await store.by_reference(ref)
    assert stored is not None
    assert (stored.status, stored.reason) == ("rejected", "Photo unreadable")
    assert await store.documents_of(stored.id) == []
    assert await store.document("unused") is None
    assert [(n.event, n.kind) for n in await notifications_of(database, stored.id)] == [
        ("rejected", "message"),
        ("rejected", "webhook"),
    ]

    # Rejected is final too: a later approval changes nothing.
    later = await store.decide(ref, approve=True, reason=None, owed=owed("approved"), token="p")
    assert later is not None
    assert (later.created, later.submission.status, later.token) == (False, "rejected", None)
    assert await store.documents_of(stored.id) == []


async def test_an_instant_submission_cannot_be_decided(database: Database) -> None:
    store = SubmissionStore(database)
    issued = await store.submit(new("instant-1"), [], token="cert")
    decided = await store.decide(
        issued.submission.reference, approve=False, reason="no", owed=owed(), token=None
    )
    assert decided is not None
    assert (decided.created, decided.submission.status, decided.token) == (False, "issued", "cert")
    assert await count(database, NotificationRow) == 0


async def test_deciding_an_unknown_reference_finds_nothing(database: Database) -> None:
    store = SubmissionStore(database)
    decided = await store.decide(
        "BR-2026-999999", approve=True, reason=None, owed=owed(), token="x"
    )
    assert decided is None
    assert await count(database, DocumentRow) == 0
    assert await count(database, NotificationRow) == 0


async def test_of_two_concurrent_decisions_exactly_one_wins(
    database: Database, other: Database
) -> None:
    approver, rejecter = SubmissionStore(database), SubmissionStore(other)
    for i in range(6):
        submitted = await approver.submit(new(f"race-{i}", mode="review"), [], token=None)
        ref = submitted.submission.reference
        approve = approver.decide(
            ref, approve=True, reason=None, owed=owed("approved"), token=f"p{i}"
        )
        reject = rejecter.decide(ref, approve=False, reason="No", owed=owed("rejected"), token=None)
        if i % 2:  # alternate which one starts first
            approved, rejected = await asyncio.gather(approve, reject)
        else:
            rejected, approved = await asyncio.gather(reject, approve)
        assert approved is not None
        assert rejected is not None

        assert [approved.created, rejected.created].count(True) == 1
        winner = "approved" if approved.created else "rejected"
        stored = await approver.by_reference(ref)
        assert stored is not None
        assert stored.status == winner
        assert approved.submission.status == rejected.submission.status == winner
        assert stored.reason == (None if winner == "approved" else "No")
        documents = await approver.documents_of(stored.id)
        assert [d.token for d in documents] == ([f"p{i}"] if winner == "approved" else [])
        notes = await notifications_of(database, stored.id)
        assert [n.event for n in notes] == [winner, winner]


# ---------------------------------------------------------------------- revoke


async def test_revoking_marks_live_documents_revoked(database: Database) -> None:
    store = SubmissionStore(database)
    issued = await store.submit(new("rev-1"), [], token="cert-1")
    untouched = await store.submit(new("rev-2"), [], token="cert-2")

    assert await store.revoke(issued.submission.reference) == 1

    assert await store.token_for(issued.submission.id) is None
    found = await store.document("cert-1")
    assert found is not None
    assert found[0].revoked_at is not None
    assert await store.revoke(issued.submission.reference) == 0  # nothing live left
    assert await store.token_for(untouched.submission.id) == "cert-2"
    again = await store.submit(new("rev-1"), [], token="cert-new")
    assert (again.created, again.token) == (False, None)


async def test_revoking_an_approved_permit(database: Database) -> None:
    store = SubmissionStore(database)
    submitted = await store.submit(new("rev-3", mode="review"), [], token=None)
    ref = submitted.submission.reference
    await store.decide(ref, approve=True, reason=None, owed=[], token="permit")
    assert await store.revoke(ref) == 1
    assert await store.token_for(submitted.submission.id) is None


async def test_revoking_an_unknown_reference_revokes_nothing(database: Database) -> None:
    store = SubmissionStore(database)
    await store.submit(new("rev-4"), [], token="cert-4")
    assert await store.revoke("BR-2026-999999") == 0
    found = await store.document("cert-4")
    assert found is not None
    assert found[0].revoked_at is None


# ---------------------------------------------------------------------- notifications


async def test_notifications_are_sent_retried_failed_and_reopened(database: Database) -> None:
    store = SubmissionStore(database)
    one = await store.submit(new("n-1"), owed(), token=None)
    two = await store.submit(new("n-2"), owed(), token=None)
    n1, n2 = one.notifications
    n3, n4 = two.notifications

    pending = await store.pending_notifications(older_than=timedelta(0))
    assert [n.id for n in pending] == [n1, n2, n3, n4]
    assert await store.pending_notifications(older_than=timedelta(minutes=5)) == []
    assert [n.id for n in await store.pending_notifications(timedelta(0), limit=2)] == [n1, n2]

    # Sent: stays sent whatever a late failed attempt says.
    await store.record_attempt(n1, sent=True)
    sent = await store.notification(n1)
    assert sent is not None
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, None)
    assert sent.sent_at is not None
    await store.record_attempt(n1, sent=False, error="HTTP 502", final=True)
    sent = await store.notification(n1)
    assert sent is not None
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, None)
    assert sent.sent_at is not None

    # A failed attempt keeps it pending; the final one marks it failed.
    await store.record_attempt(n2, sent=False, error="HTTP 502")
    retried = await store.notification(n2)
    assert retried is not None
    assert (retried.status, retried.attempts, retried.last_error) == ("pending", 1, "HTTP 502")
    assert retried.sent_at is None
    await store.record_attempt(n2, sent=False, error="x" * 5000, final=True)
    failed = await store.notification(n2)
    assert failed is not None
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 2, "x" * 2000)

    assert [n.id for n in await store.pending_notifications(timedelta(0))] == [n3, n4]
    assert [n.id for n in await store.notifications(status="failed")] == [n2]
    assert [n.id for n in await store.notifications(status="sent")] == [n1]
    assert [n.id for n in await store.notifications(status="pending")] == [n4, n3]
    assert [n.id for n in await store.notifications()] == [n4, n3, n2, n1]
    assert [n.id for n in await store.notifications(limit=1)] == [n4]

    # Reopened: pending again (its attempts kept); a sent one stays sent.
    reopened = await store.reopen(n2)
    assert reopened is not None
    assert (reopened.status, reopened.attempts) == ("pending", 2)
    assert [n.id for n in await store.pending_notifications(timedelta(0))] == [n2, n3, n4]
    still_sent = await store.reopen(n1)
    assert still_sent is not None
    assert still_sent.status == "sent"
    stored = await store.notification(n1)
    assert stored is not None
    assert stored.status == "sent"
    assert await store.notifications(status="failed") == []
    assert await store.reopen(10_000_000) is None
    assert await store.notification(10_000_000) is None


# ---------------------------------------------------------------------- listing


async def test_listing_filters_newest_first_with_paging(database: Database) -> None:
    store = SubmissionStore(database)
    made: list[tuple[str, str, str]] = [
        ("l1", "birth-registration", "+97517000001"),
        ("l2", "driving-licence", "+97517000002"),
        ("l3", "birth-registration", "+97517000002"),
        ("l4", "birth-registration", "+97517000001"),
        ("l5", "driving-licence", "+97517000001"),
    ]
    refs: dict[str, str] = {}
    for key, service, citizen in made:
        mode = "review" if service == "driving-licence" else "instant"
        stored = await store.submit(
            new(key, mode=mode, service=service, citizen=citizen, prefix=service[:2].upper()),
            [],
            token=None,
        )
        refs[key] = stored.submission.reference
    decided = await store.decide(refs["l5"], approve=True, reason=None, owed=[], token=None)
    assert decided is not None

    def keys(rows: list[SubmissionRow]) -> list[str]:
        return [row.idempotency_key for row in rows]

    assert keys(await store.listing()) == ["l5", "l4", "l3", "l2", "l1"]
    assert keys(await store.listing(service="birth-registration")) == ["l4", "l3", "l1"]
    assert keys(await store.listing(status="pending")) == ["l2"]
    assert keys(await store.listing(status="approved")) == ["l5"]
    assert keys(await store.listing(status="issued")) == ["l4", "l3", "l1"]
    assert keys(await store.listing(citizen="+97517000001")) == ["l5", "l4", "l1"]
    assert keys(await store.listing(service="birth-registration", citizen="+97517000002")) == ["l3"]
    assert keys(await store.listing(service="driving-licence", status="issued")) == []
    assert keys(await store.listing(limit=2)) == ["l5", "l4"]
    assert keys(await store.listing(limit=2, offset=2)) == ["l3", "l2"]
    assert keys(await store.listing(limit=2, offset=4)) == ["l1"]
    assert keys(await store.listing(citizen="+97517000001", limit=1, offset=1)) == ["l4"]
    assert await store.listing(citizen="+97500000000") == []


# ---------------------------------------------------------------------- schema


def _differences(connection: Connection) -> list[Any]:
    # Types are compared (Alembic's default); server defaults are not (also its default):
    # the migrations give `attempts` and `segments` a server default of 0 where the models
    # have a Python-side default of 0, which every insert through the models supplies.
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    found: list[Any] = compare_metadata(context, Base.metadata)
    return found


async def test_the_migrations_match_the_models(database: Database) -> None:
    """The schema `migrate()` built is the one the models declare: tables, columns, types,
    nullability, indexes, unique constraints and foreign keys. `Base.metadata` holds the
    submission and event tables because this module imports their modules."""
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


# ---------------------------------------------------------------------- numbering


async def test_a_submission_stored_by_a_process_that_died_is_numbered_later(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SubmissionStore(database)

    async def died(self: SubmissionStore, connection: AsyncConnection, submission_id: int) -> str:
        raise ConnectionError("the process died after its commit")

    with monkeypatch.context() as patch:
        patch.setattr(SubmissionStore, "_number", died)
        with pytest.raises(ConnectionError):
            await store.submit(new("orphan"), owed(), token="t-orphan")
    # Stored, with its document and notifications, but not numbered yet.
    (waiting,) = await store.unnumbered(timedelta(0))
    assert await store.document("t-orphan") is not None
    later = await store.submit(new("next"), owed(), token="t-next")  # another citizen
    # The retried final answer (or the relay) numbers the first: no number lost or shared.
    again = await store.submit(new("orphan"), owed(), token="t-other")
    assert again.created is False
    assert again.token == "t-orphan"
    assert numbers([later, again]) == [1, 2]
    assert await store.unnumbered(timedelta(0)) == []
    assert await store.number(waiting) == again.submission.reference  # numbered once
    assert numbers(await all_submissions(database)) == [1, 2]


async def test_what_cannot_be_a_reference_finds_nothing_without_asking(
    database: Database,
) -> None:
    store = SubmissionStore(database)
    reference = (await store.submit(new("odd"), owed(), token=None)).submission.reference
    assert await store.by_reference(reference) is not None
    for odd in ("", reference + "\x00", "BR-2026-000001'; --", "x" * 33):
        assert await store.by_reference(odd) is None  # PostgreSQL would refuse the NUL
