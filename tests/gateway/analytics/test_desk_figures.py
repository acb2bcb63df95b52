"""The desk's figures (`gateway/analytics/desk.py`) on hand-built applications, exactly,
on a new SQLite file and on the real PostgreSQL (a database of this module's own, made,
migrated with alembic and dropped around each test); and the two databases agreeing on
the same data, percentiles included.
"""

from __future__ import annotations

import os
import random
import statistics
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, insert, text

from gateway.analytics.desk import (
    DayCount,
    DecisionTime,
    ReturnedFigures,
    ServiceDays,
    applications_per_day,
    decision_times,
    overview,
    returned_rate,
)
from state.database import Database
from state.submissions import SUBMISSIONS
from state.timeline import EventKind, SubmissionEventRow
from tests.state.own_database import own_database

PG_NAME = f"gateway_desk_figures_{os.getpid()}"  # of this run's own: no one else's tests
EVENTS = cast(Table, SubmissionEventRow.__table__)

SINCE = datetime(2027, 3, 1)
UNTIL = datetime(2027, 3, 4)


# ---- the databases ---------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with own_database(request.param, tmp_path, PG_NAME) as db:
        yield db


# ---- the applications ------------------------------------------------------------------


class Rows:
    """Applications and their desk events, written with plain inserts."""

    def __init__(self) -> None:
        self.submissions: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def add(
        self,
        service: str,
        created: datetime,
        status: str,
        decided: datetime | None = None,
        returned: tuple[datetime, ...] = (),
    ) -> None:
        number = len(self.submissions) + 1
        self.submissions.append(
            {
                "id": number,
                "reference": f"T-2027-{number:06d}",
                "idempotency_key": f"key-{number}",
                "service": service,
                "version": 1,
                "mode": "instant" if status == "issued" else "review",
                "status": status,
                "citizen": f"+9751700{number:04d}",
                "channel": "ussd",
                "lang": "en",
                "answers": {},
                "created_at": created,
                "updated_at": decided or created,
                "decided_at": decided,
            }
        )
        for at in returned:
            self.events.append(
                {"submission_id": number, "at": at, "kind": EventKind.RETURNED.value}
            )
            self.events.append(
                {
                    "submission_id": number,
                    "at": at + timedelta(minutes=1),
                    "kind": EventKind.CORRECTED.value,
                }
            )
        if decided is not None:
            self.events.append({"submission_id": number, "at": decided, "kind": status})

    def decided(
        self, service: str, seconds: float, decided: datetime, status: str = "approved"
    ) -> None:
        self.add(service, decided - timedelta(seconds=seconds), status, decided)

    async def write(self, database: Database) -> None:
        async with database.engine.begin() as connection:
            if self.submissions:
                await connection.execute(insert(SUBMISSIONS), self.submissions)
            if self.events:
                await connection.execute(insert(EVENTS), self.events)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, second, micro)


def hand_built() -> Rows:
    """Business registration (instant and reviewed), births (five decided: an odd count),
    land (four decided: an even count), around the window 1-3 March 2027."""
    rows = Rows()
    # Business: days are UTC days, the window half-open.
    rows.add("business", datetime(2027, 2, 28, 23, 59, 59), "issued")  # before
    rows.add("business", at(1, 0, 0, 0), "issued")
    rows.add("business", at(1, 10), "pending")
    rows.add("business", at(1, 23, 59, 59, 999_999), "issued")
    rows.add("business", at(2, 0, 0, 0), "issued")
    rows.add("business", at(3, 12), "returned", returned=(at(3, 13),))  # returned now
    rows.add("business", at(4, 0, 0, 0), "issued")  # at `until`: after
    # Births: decided in the window after 60, 120, 300, 3600 and 7200 s.
    rows.decided("births", 60, at(1, 9))
    rows.decided("births", 120, at(1, 12), "rejected")
    rows.decided("births", 300, at(2, 8))
    rows.decided("births", 7200, at(3, 23, 59, 59))
    # Returned twice, corrected, then approved: 3600 s from submission to decision.
    rows.add("births", at(2, 9), "approved", at(2, 10), returned=(at(2, 9, 10), at(2, 9, 40)))
    rows.decided("births", 50, at(4, 0, 0, 0))  # decided at `until`: after
    rows.decided("births", 40, datetime(2027, 2, 28, 23, 59))  # decided before
    rows.add("births", at(2, 11), "pending")  # not decided
    # Land: decided in the window after 100, 200, 400 and 1000 s (an even count).
    rows.decided("land", 100, at(2, 1))
    rows.decided("land", 200, at(2, 2))
    # 10:00:00.7 to 10:06:40.2 is 399.5 s: 400 counted (each time cut to its second).
    rows.add("land", at(2, 10, 0, 0, 700_000), "rejected", at(2, 10, 6, 40, 200_000))
    rows.add("land", at(3, 4, 43, 20), "approved", at(3, 5), returned=(at(3, 4, 50),))
    # Returned in February and still waiting for the citizen.
    rows.add("land", datetime(2027, 2, 10), "returned", returned=(datetime(2027, 2, 11),))
    return rows


@pytest.fixture
async def built(database: Database) -> Database:
    await hand_built().write(database)
    return database


# ---- applications per day --------------------------------------------------------------


async def test_applications_are_counted_per_service_and_utc_day(built: Database) -> None:
    figures = await applications_per_day(built, since=SINCE, until=UNTIL)
    business = ServiceDays(
        service="business",
        submitted=5,
        instant=3,
        reviewed=2,
        days=(
            DayCount(day=date(2027, 3, 1), submitted=3, instant=2, reviewed=1),
            DayCount(day=date(2027, 3, 2), submitted=1, instant=1, reviewed=0),
            DayCount(day=date(2027, 3, 3), submitted=1, instant=0, reviewed=1),
        ),
    )
    births = ServiceDays(
        service="births",
        submitted=7,
        instant=0,
        reviewed=7,
        days=(
            DayCount(day=date(2027, 3, 1), submitted=2, instant=0, reviewed=2),
            DayCount(day=date(2027, 3, 2), submitted=3, instant=0, reviewed=3),
            # Decided at `until` after 50 s: submitted at 23:59:10 on the 3rd.
            DayCount(day=date(2027, 3, 3), submitted=2, instant=0, reviewed=2),
        ),
    )
    land = ServiceDays(
        service="land",
        submitted=4,
        instant=0,
        reviewed=4,
        days=(
            DayCount(day=date(2027, 3, 2), submitted=3, instant=0, reviewed=3),
            DayCount(day=date(2027, 3, 3), submitted=1, instant=0, reviewed=1),
        ),
    )
    assert figures.services == (births, business, land)
    assert (figures.submitted, figures.instant, figures.reviewed) == (16, 3, 13)
    assert (figures.since, figures.until) == (SINCE, UNTIL)


async def test_an_open_window_counts_everything(built: Database) -> None:
    figures = await applications_per_day(built)
    assert figures.submitted == len(hand_built().submissions)
    assert figures.instant == 5


# ---- decision times --------------------------------------------------------------------


async def test_median_and_p90_with_an_odd_and_an_even_count(built: Database) -> None:
    figures = await decision_times(built, since=SINCE, until=UNTIL)
    # Births: 60 120 300 3600 7200. Median: the third; p90 at rank 1 + 0.9 * 4 = 4.6.
    # Land: 100 200 400 1000. Median at rank 2.5; p90 at rank 1 + 0.9 * 3 = 3.7.
    assert figures.services == (
        DecisionTime(service="births", decided=5, median_seconds=300.0, p90_seconds=5760.0),
        DecisionTime(service="land", decided=4, median_seconds=300.0, p90_seconds=820.0),
    )
    # All nine: 60 100 120 200 300 400 1000 3600 7200; p90 at rank 8.2.
    assert figures.total == DecisionTime(
        service="*", decided=9, median_seconds=300.0, p90_seconds=4320.0
    )
    durations = [60, 100, 120, 200, 300, 400, 1000, 3600, 7200]
    assert statistics.median(durations) == 300.0
    assert statistics.quantiles(durations, n=10, method="inclusive")[8] == 4320.0
    assert statistics.quantiles([100, 200, 400, 1000], n=10, method="inclusive")[8] == 820.0


async def test_one_decided_application_is_its_own_median(database: Database) -> None:
    rows = Rows()
    rows.decided("births", 42, at(2))
    await rows.write(database)
    figures = await decision_times(database, since=SINCE, until=UNTIL)
    assert figures.services == (
        DecisionTime(service="births", decided=1, median_seconds=42.0, p90_seconds=42.0),
    )


# ---- returned --------------------------------------------------------------------------


async def test_a_returned_then_approved_application_counts_once(built: Database) -> None:
    figures = await returned_rate(built, since=SINCE, until=UNTIL)
    assert figures.services == (
        ReturnedFigures(
            service="births",
            decided=5,
            returned_before_decision=1,  # returned twice, counted once
            returned_share=0.2,
            returned_now=0,
        ),
        ReturnedFigures(
            service="business",
            decided=0,
            returned_before_decision=0,
            returned_share=None,
            returned_now=1,
        ),
        ReturnedFigures(
            service="land",
            decided=4,
            returned_before_decision=1,
            returned_share=0.25,
            returned_now=1,  # returned in February, still waiting: not windowed
        ),
    )
    assert figures.total == ReturnedFigures(
        service="*",
        decided=9,
        returned_before_decision=2,
        returned_share=0.2222,
        returned_now=2,
    )


async def test_a_return_after_the_decision_is_not_counted(database: Database) -> None:
    rows = Rows()
    rows.add("births", at(1, 8), "approved", at(1, 9), returned=(at(1, 9), at(1, 10)))
    await rows.write(database)
    figures = await returned_rate(database, since=SINCE, until=UNTIL)
    assert figures.total.decided == 1
    assert figures.total.returned_before_decision == 0


# ---- filters, empty windows, time zones ------------------------------------------------


async def test_a_service_filter_lists_exactly_the_services_asked_for(built: Database) -> None:
    only = frozenset({"land", "no-such-service"})
    figures = await overview(built, since=SINCE, until=UNTIL, services=only)
    assert [s.service for s in figures.applications.services] == ["land", "no-such-service"]
    assert figures.applications.submitted == 4
    assert figures.applications.services[1] == ServiceDays(
        service="no-such-service", submitted=0, instant=0, reviewed=0, days=()
    )
    assert figures.decision_times.total == DecisionTime(
        service="*", decided=4, median_seconds=300.0, p90_seconds=820.0
    )
    assert figures.decision_times.services[1] == DecisionTime(
        service="no-such-service", decided=0, median_seconds=None, p90_seconds=None
    )
    assert figures.returned.total == ReturnedFigures(
        service="*", decided=4, returned_before_decision=1, returned_share=0.25, returned_now=1
    )
    assert [s.service for s in figures.returned.services] == ["land", "no-such-service"]


async def test_an_empty_window_is_zeros(built: Database) -> None:
    empty = (datetime(2030, 1, 1), datetime(2030, 2, 1))
    figures = await overview(built, since=empty[0], until=empty[1])
    assert figures.applications.services == ()
    assert (figures.applications.submitted, figures.applications.reviewed) == (0, 0)
    assert figures.decision_times.services == ()
    assert figures.decision_times.total == DecisionTime(
        service="*", decided=0, median_seconds=None, p90_seconds=None
    )
    assert figures.returned.total.decided == 0
    assert figures.returned.total.returned_share is None
    # Returned now is today's count, whatever the window.
    assert figures.returned.total.returned_now == 2
    named = await overview(built, since=empty[0], until=empty[1], services=frozenset({"births"}))
    assert named.applications.services == (
        ServiceDays(service="births", submitted=0, instant=0, reviewed=0, days=()),
    )
    assert named.returned.services == (
        ReturnedFigures(
            service="births",
            decided=0,
            returned_before_decision=0,
            returned_share=None,
            returned_now=0,
        ),
    )


async def test_an_empty_database_is_zeros(database: Database) -> None:
    figures = await overview(database, since=SINCE, until=UNTIL)
    assert figures.applications.submitted == 0
    assert figures.decision_times.total.decided == 0
    assert figures.returned.total.returned_now == 0


async def test_aware_times_are_converted_to_utc(built: Database) -> None:
    bhutan = timezone(timedelta(hours=6))
    aware = await overview(
        built, since=SINCE.replace(tzinfo=UTC).astimezone(bhutan), until=UNTIL.replace(tzinfo=UTC)
    )
    assert aware == await overview(built, since=SINCE, until=UNTIL)
    assert aware.applications.since == SINCE


# ---- cost ------------------------------------------------------------------------------


@contextmanager
def counted(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_each_figure_is_one_statement_and_the_overview_three(built: Database) -> None:
    await overview(built, since=SINCE, until=UNTIL)  # a connection made before counting
    for figure in (applications_per_day, decision_times, returned_rate):
        with counted(built) as statements:
            await figure(built, since=SINCE, until=UNTIL)
        assert len(statements) == 1
    with counted(built) as statements:
        figures = await overview(built, since=SINCE, until=UNTIL)
    assert len(statements) == 3
    assert figures.applications == await applications_per_day(built, since=SINCE, until=UNTIL)
    assert figures.decision_times == await decision_times(built, since=SINCE, until=UNTIL)
    assert figures.returned == await returned_rate(built, since=SINCE, until=UNTIL)
    with counted(built) as statements:
        await overview(built, since=SINCE, until=UNTIL, services=frozenset())
    assert statements == []


# ---- SQLite and PostgreSQL agree -------------------------------------------------------


def random_rows(seed: int) -> tuple[Rows, dict[str, list[int]]]:
    """Applications of eight services with 0 to 13 decisions each, times with fractions
    of seconds; and each service's decision times as the figures define them."""
    chance = random.Random(seed)
    rows = Rows()
    expected: dict[str, list[int]] = {}
    for index in range(8):
        service = f"service-{index}"
        expected[service] = []
        for _ in range(index * 2 - (index % 2)):
            created = SINCE + timedelta(seconds=chance.uniform(-86400, 2 * 86400))
            decided = created + timedelta(seconds=chance.uniform(0.1, 5 * 86400))
            returned = (created + (decided - created) / 2,) if chance.random() < 0.3 else ()
            status = chance.choice(["approved", "rejected"])
            rows.add(service, created, status, decided, returned)
            if SINCE <= decided < UNTIL:
                whole = decided.replace(microsecond=0) - created.replace(microsecond=0)
                expected[service].append(int(whole.total_seconds()))
        for _ in range(chance.randint(0, 6)):
            created = SINCE + timedelta(seconds=chance.uniform(-86400, 4 * 86400))
            rows.add(service, created, chance.choice(["issued", "pending", "returned"]))
    return rows, expected


@pytest.mark.integration
async def test_sqlite_and_postgresql_give_the_same_figures(tmp_path: Path) -> None:
    rows, expected = random_rows(20270301)
    found = []
    for kind in ("sqlite", "postgresql"):
        async with own_database(kind, tmp_path / kind, PG_NAME) as database:
            await rows.write(database)
            found.append(await overview(database, since=SINCE, until=UNTIL))
            if kind == "postgresql":
                builtin = await percentile_cont(database)
    on_sqlite, on_postgresql = found
    assert on_sqlite == on_postgresql
    times = {t.service: t for t in on_sqlite.decision_times.services}
    assert {name for name, seconds in expected.items() if seconds} == set(times)
    assert any(len(seconds) % 2 == 0 and seconds for seconds in expected.values())
    assert any(len(seconds) % 2 == 1 for seconds in expected.values())
    for name, seconds in expected.items():
        if not seconds:
            continue
        assert times[name].decided == len(seconds)
        assert times[name].median_seconds == pytest.approx(statistics.median(seconds), abs=1e-9)
        if len(seconds) > 1:
            p90 = statistics.quantiles(seconds, n=10, method="inclusive")[8]
            assert times[name].p90_seconds == pytest.approx(p90, abs=1e-9)
        # PostgreSQL's own percentile_cont over the same durations.
        assert (times[name].median_seconds, times[name].p90_seconds) == pytest.approx(
            builtin[name], abs=1e-9
        )


async def percentile_cont(database: Database) -> dict[str, tuple[float, float]]:
    query = text(
        """
        SELECT service,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)
        FROM (SELECT service,
                     EXTRACT(EPOCH FROM date_trunc('second', decided_at))
                     - EXTRACT(EPOCH FROM date_trunc('second', created_at)) AS seconds
              FROM submissions
              WHERE status IN ('approved', 'rejected')
                AND decided_at >= :since AND decided_at < :until) AS decided
        GROUP BY service
        """
    )
    async with database.engine.connect() as connection:
        result = await connection.execute(query, {"since": SINCE, "until": UNTIL})
        return {str(row[0]): (float(row[1]), float(row[2])) for row in result}
