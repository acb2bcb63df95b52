"""The desk's records: migration 0006 on a schema holding applications and accounts, and
the desk store's queue, return, correction and assignment on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from state.database import Database
from state.desk import DeskStore, QueueFilter
from state.submissions import NewSubmission, SubmissionStore, utcnow
from state.timeline import EventKind
from tests.state.test_accounts import _alembic


def _columns(connection: Connection, table: str) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns(table)}


def _new(key: str, service: str = "drones", citizen: str = "+97517123456") -> NewSubmission:
    return NewSubmission(
        idempotency_key=key,
        service=service,
        version=1,
        mode="review",
        reference_prefix="DFA",
        citizen=citizen,
        channel="ussd",
        lang="en",
        answers={"model": "DJI Mavic 3", "weight": "up_to_2kg"},
        document=None,
    )


async def test_the_migration_keeps_applications_and_accounts(database: Database) -> None:
    """From 0005 (accounts, no desk), with an application and an account, up to head."""
    async with database.engine.begin() as connection:
        await connection.run_sync(_alembic, "downgrade", "0005")
        assert "submission_events" not in await connection.run_sync(
            lambda c: set(inspect(c).get_table_names())
        )
        await connection.execute(
            text(
                "INSERT INTO submissions (reference, idempotency_key, service, version, mode, "
                "status, citizen, channel, lang, answers, created_at, updated_at) VALUES "
                "('DFA-2026-000001', 'k1', 'drones', 1, 'review', 'pending', '+97517123456', "
                "'ussd', 'en', '{\"model\": \"DJI\"}', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00')"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO accounts (email, password_hash, created_at, disabled) VALUES "
                "('dorji@gov.bt', 'x', '2026-01-01 00:00:00', false)"
            )
        )
    await database.migrate()
    async with database.engine.connect() as connection:
        assert {"assigned_to", "correction"} <= await connection.run_sync(_columns, "submissions")
        assert {"totp_secret", "sessions_since"} <= await connection.run_sync(_columns, "accounts")
        assert "revoked_reason" in await connection.run_sync(_columns, "documents")
        kept = (await connection.execute(text("SELECT status, assigned_to FROM submissions"))).one()
    assert tuple(kept) == ("pending", None)
    store = DeskStore(database, SubmissionStore(database))
    queue = await store.queue(QueueFilter(services=None))
    assert [item.submission.reference for item in queue.items] == ["DFA-2026-000001"]


async def test_a_return_and_its_correction_happen_once_each(database: Database) -> None:
    submissions = SubmissionStore(database)
    desk = DeskStore(database, submissions)
    stored = await submissions.submit(_new("k1"), [], token=None)
    reference = stored.submission.reference
    returned = await desk.return_for_correction(
        reference, steps=["model"], note="As printed.", officer_id=None, actor="a@gov.bt", owed=[]
    )
    assert returned is not None
    assert returned.returned
    assert returned.submission.status == "returned"
    again = await desk.return_for_correction(
        reference, steps=["model"], note="Twice?", officer_id=None, actor="b@gov.bt", owed=[]
    )
    assert again is not None
    assert not again.returned  # returned already: the second officer is told
    assert (await desk.returned_to("+97517123456")) is not None
    # Not this citizen's: refused.
    assert await desk.amend(reference, "+97517000000", {"model": "x"}, None) is None
    amended = await desk.amend(reference, "+97517123456", {"model": "DJI Mini 4"}, None)
    assert amended is not None
    assert amended.status == "pending"
    assert amended.answers == {"model": "DJI Mini 4"}
    retried = await desk.amend(reference, "+97517123456", {"model": "DJI Mini 4"}, None)
    assert retried is not None  # a retried confirmation finds it corrected
    assert await desk.returned_to("+97517123456") is None
    kinds = [event.kind for event in await desk.timeline(stored.submission.id)]
    assert kinds == [EventKind.RETURNED, EventKind.CORRECTED]


async def test_the_queue_filters_by_service_status_reference_and_dates(
    database: Database,
) -> None:
    submissions = SubmissionStore(database)
    desk = DeskStore(database, submissions)
    refs = [
        (await submissions.submit(_new(f"k{n}", service), [], token=None)).submission.reference
        for n, service in enumerate(["drones", "buses", "drones"])
    ]
    every = await desk.queue(QueueFilter(services=None))
    assert [i.submission.reference for i in every.items] == refs[::-1]
    assert every.total == 3
    drones = await desk.queue(QueueFilter(services=frozenset({"drones"}), oldest_first=True))
    assert [i.submission.reference for i in drones.items] == [refs[0], refs[2]]
    assert (await desk.queue(QueueFilter(services=frozenset()))).total == 0
    paged = await desk.queue(QueueFilter(services=None, limit=1, offset=1))
    assert ([i.submission.reference for i in paged.items], paged.total) == ([refs[1]], 3)
    found = await desk.queue(QueueFilter(services=None, reference=refs[1][:8].lower()))
    assert found.total == 3  # a common prefix matches all
    exact = await desk.queue(QueueFilter(services=None, reference=refs[1]))
    assert [i.submission.reference for i in exact.items] == [refs[1]]
    later = await desk.queue(QueueFilter(services=None, since=utcnow() + timedelta(hours=1)))
    assert later.total == 0
    assert (await desk.queue(QueueFilter(services=None, status="returned"))).total == 0
