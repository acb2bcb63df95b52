"""The desk's figures: what the console's home page shows analysts and administrators.

Definitions (times are the submissions' own columns, naive UTC; an aware `since` or
`until` is converted to UTC; the window is `[since, until)`, either end open when None):
- *submitted*: applications whose `created_at` is in the window, per service and UTC
  day, split into *instant* (status `issued`: the document was issued at once) and
  *reviewed* (everything else: an officer decides). Days without any are left out.
- *decided*: reviewed applications decided in the window: `decided_at` in the window and
  status `approved` or `rejected`. Their decision time is `decided_at - created_at`, in
  whole seconds (each time truncated to its second first, on both databases).
- *median* and *p90*: percentiles of the decision times with linear interpolation
  between the closest ranks, PostgreSQL's `percentile_cont` (and Python's
  `statistics.quantiles(method="inclusive")`): with an even count the median is the
  mean of the two middle times. None when nothing was decided.
- *returned share*: among the decided, those with at least one `returned` event before
  their decision (once each, however often they were returned); None when nothing was
  decided. *returned now*: applications whose status is `returned` at this moment (not
  windowed: what waits on citizens today).
- `services`: None for every service; otherwise only those, each listed even with no
  applications (zeros), and an empty set answers without asking the database.

Cost: every figure is grouped in SQL, so no application is loaded: `applications_per_day`
reads one row per (service, day, kind), `decision_times` at most four rows per service
and four for the total (the ranks either side of each percentile, picked with window
functions in the same statement on both databases), `returned_rate` one row per service.
Each function is one statement; `overview` is three, on one connection.
`decided_at` has no index: the decided figures scan the selected services' applications
(by the `service` index when filtered); at millions of applications, add an index on
`(status, decided_at)`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any, cast

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Select,
    Table,
    and_,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from state.database import Database
from state.submissions import SUBMISSIONS
from state.timeline import EventKind, SubmissionEventRow

DECIDED = ("approved", "rejected")
MEDIAN = Fraction(1, 2)
P90 = Fraction(9, 10)
_ALL = "*"  # the partition of the decision times over every selected service

_EVENTS = cast(Table, SubmissionEventRow.__table__)


class _Figures(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DayCount(_Figures):
    """Applications submitted to one service on one UTC day."""

    day: date
    submitted: int
    instant: int
    reviewed: int


class ServiceDays(_Figures):
    service: str
    submitted: int
    instant: int
    reviewed: int
    days: tuple[DayCount, ...]  # oldest first; days without applications left out


class ApplicationsPerDay(_Figures):
    since: datetime | None
    until: datetime | None
    submitted: int
    instant: int
    reviewed: int
    services: tuple[ServiceDays, ...]  # by service name


class DecisionTime(_Figures):
    """Decision times of one service (or of all the selected ones), in seconds."""

    service: str
    decided: int
    median_seconds: float | None
    p90_seconds: float | None


class DecisionTimes(_Figures):
    since: datetime | None
    until: datetime | None
    total: DecisionTime  # every selected service together (service "*")
    services: tuple[DecisionTime, ...]


class ReturnedFigures(_Figures):
    service: str
    decided: int
    returned_before_decision: int
    returned_share: float | None  # of the decided, rounded to 4 places
    returned_now: int


class ReturnedRate(_Figures):
    since: datetime | None
    until: datetime | None
    total: ReturnedFigures  # service "*"
    services: tuple[ReturnedFigures, ...]


class Overview(_Figures):
    """The home page: the three figures over one window."""

    applications: ApplicationsPerDay
    decision_times: DecisionTimes
    returned: ReturnedRate


# ---------------------------------------------------------------------------- the window


def _utc(moment: datetime | None) -> datetime | None:
    """A window end as stored: naive UTC."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _within(
    column: ColumnElement[Any], since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if since is not None:
        found.append(column >= since)
    if until is not None:
        found.append(column < until)
    return found


def _of(services: frozenset[str] | None) -> list[ColumnElement[bool]]:
    return [] if services is None else [SUBMISSIONS.c.service.in_(sorted(services))]


def _listed(services: frozenset[str] | None, seen: Iterable[str]) -> list[str]:
    """The services to list: the ones asked for, or every one seen."""
    return sorted(services if services is not None else set(seen))


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _decided(since: datetime | None, until: datetime | None) -> ColumnElement[bool]:
    return and_(
        SUBMISSIONS.c.status.in_(DECIDED),
        SUBMISSIONS.c.decided_at.is_not(None),
        *_within(SUBMISSIONS.c.decided_at, since, until),
    )


# ----------------------------------------------------------------- applications per day


def _day(dialect: str) -> ColumnElement[Any]:
    """The UTC day of `created_at`: a date on PostgreSQL, 'YYYY-MM-DD' on SQLite."""
    if dialect == "postgresql":
        return SUBMISSIONS.c.created_at.cast(Date)
    return func.date(SUBMISSIONS.c.created_at)


async def _applications_per_day(
    connection: AsyncConnection,
    since: datetime | None,
    until: datetime | None,
    services: frozenset[str] | None,
) -> ApplicationsPerDay:
    rows: list[Any] = []
    if services != frozenset():
        day = _day(connection.dialect.name).label("day")
        instant = SUBMISSIONS.c.status == "issued"
        query = (
            select(
                SUBMISSIONS.c.service,
                day,
                func.count().label("submitted"),
                _count(instant).label("instant"),
            )
            .where(*_within(SUBMISSIONS.c.created_at, since, until), *_of(services))
            .group_by(SUBMISSIONS.c.service, day)
            .order_by(SUBMISSIONS.c.service, day)
        )
        rows = list((await connection.execute(query)).all())
    days: dict[str, list[DayCount]] = defaultdict(list)
    for row in rows:
        found = row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day))
        submitted, instant_count = int(row.submitted), int(row.instant)
        days[row.service].append(
            DayCount(
                day=found,
                submitted=submitted,
                instant=instant_count,
                reviewed=submitted - instant_count,
            )
        )
    listed = tuple(
        ServiceDays(
            service=name,
            submitted=sum(d.submitted for d in days[name]),
            instant=sum(d.instant for d in days[name]),
            reviewed=sum(d.reviewed for d in days[name]),
            days=tuple(days[name]),
        )
        for name in _listed(services, days)
    )
    return ApplicationsPerDay(
        since=since,
        until=until,
        submitted=sum(s.submitted for s in listed),
        instant=sum(s.instant for s in listed),
        reviewed=sum(s.reviewed for s in listed),
        services=listed,
    )


# -------------------------------------------------------------------------- decision times


def _seconds(dialect: str, column: ColumnElement[Any]) -> ColumnElement[int]:
    """Seconds since the epoch of a naive UTC time, truncated to the second."""
    if dialect == "postgresql":
        return func.extract("epoch", func.date_trunc("second", column)).cast(BigInteger)
    return func.strftime("%s", column).cast(BigInteger)


def _ranks(rank: ColumnElement[int], count: ColumnElement[int]) -> ColumnElement[bool]:
    """The 1-based ranks either side of each percentile: `1 + p (n - 1)` rounded down and
    up (integer arithmetic, the same on both databases)."""
    picked: list[ColumnElement[bool]] = []
    for p in (MEDIAN, P90):
        below = 1 + (count - 1) * p.numerator // p.denominator
        picked += [rank == below, rank == below + 1]
    return or_(*picked)


def _decision_query(
    dialect: str,
    since: datetime | None,
    until: datetime | None,
    services: frozenset[str] | None,
) -> Select[Any]:
    seconds = _seconds(dialect, SUBMISSIONS.c.decided_at) - _seconds(
        dialect, SUBMISSIONS.c.created_at
    )
    decided = (
        select(SUBMISSIONS.c.service, seconds.label("seconds"))
        .where(_decided(since, until), *_of(services))
        .cte("decided")
    )
    ranked = []
    for by_service in (True, False):
        key = decided.c.service if by_service else literal_column(f"'{_ALL}'")
        partition = decided.c.service if by_service else None
        ranked.append(
            select(
                key.label("service"),
                decided.c.seconds,
                func.row_number()
                .over(partition_by=partition, order_by=decided.c.seconds)
                .label("rank"),
                func.count().over(partition_by=partition).label("n"),
            )
        )
    every = union_all(*ranked).subquery("ranked")
    return (
        select(every.c.service, every.c.n, every.c.rank, every.c.seconds)
        .where(_ranks(every.c.rank, every.c.n))
        .order_by(every.c.service, every.c.rank)
    )


def percentile(ordered: dict[int, int], count: int, p: Fraction) -> float | None:
    """The `p` percentile of `count` times, given (at least) the ones at the ranks either
    side of it (`ordered`: 1-based rank to seconds), interpolated as `percentile_cont`."""
    if count == 0:
        return None
    position = 1 + (count - 1) * p
    below = int(position)  # position >= 1: int() rounds down
    low = ordered[below]
    if position == below:
        return float(low)
    return float(low + (ordered[below + 1] - low) * (position - below))


def _decision_time(service: str, count: int, ordered: dict[int, int]) -> DecisionTime:
    return DecisionTime(
        service=service,
        decided=count,
        median_seconds=percentile(ordered, count, MEDIAN),
        p90_seconds=percentile(ordered, count, P90),
    )


async def _decision_times(
    connection: AsyncConnection,
    since: datetime | None,
    until: datetime | None,
    services: frozenset[str] | None,
) -> DecisionTimes:
    rows: list[Any] = []
    if services != frozenset():
        query = _decision_query(connection.dialect.name, since, until, services)
        rows = list((await connection.execute(query)).all())
    counts: dict[str, int] = {}
    ordered: dict[str, dict[int, int]] = defaultdict(dict)
    for row in rows:
        counts[row.service] = int(row.n)
        ordered[row.service][int(row.rank)] = int(row.seconds)
    return DecisionTimes(
        since=since,
        until=until,
        total=_decision_time(_ALL, counts.get(_ALL, 0), ordered[_ALL]),
        services=tuple(
            _decision_time(name, counts.get(name, 0), ordered[name])
            for name in _listed(services, (name for name in counts if name != _ALL))
        ),
    )


# --------------------------------------------------------------------------- returned rate


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _returned(
    service: str, decided: int, returned_before: int, returned_now: int
) -> ReturnedFigures:
    return ReturnedFigures(
        service=service,
        decided=decided,
        returned_before_decision=returned_before,
        returned_share=_share(returned_before, decided),
        returned_now=returned_now,
    )


async def _returned_rate(
    connection: AsyncConnection,
    since: datetime | None,
    until: datetime | None,
    services: frozenset[str] | None,
) -> ReturnedRate:
    rows: list[Any] = []
    if services != frozenset():
        decided = _decided(since, until)
        returned_before = exists().where(
            _EVENTS.c.submission_id == SUBMISSIONS.c.id,
            _EVENTS.c.kind == EventKind.RETURNED.value,
            _EVENTS.c.at < SUBMISSIONS.c.decided_at,
        )
        now = SUBMISSIONS.c.status == "returned"
        query = (
            select(
                SUBMISSIONS.c.service,
                _count(decided).label("decided"),
                _count(and_(decided, returned_before)).label("returned_before"),
                _count(now).label("returned_now"),
            )
            .where(or_(decided, now), *_of(services))
            .group_by(SUBMISSIONS.c.service)
        )
        rows = list((await connection.execute(query)).all())
    found = {
        row.service: (int(row.decided), int(row.returned_before), int(row.returned_now))
        for row in rows
    }
    listed = tuple(
        _returned(name, *found.get(name, (0, 0, 0))) for name in _listed(services, found)
    )
    return ReturnedRate(
        since=since,
        until=until,
        total=_returned(
            _ALL,
            sum(s.decided for s in listed),
            sum(s.returned_before_decision for s in listed),
            sum(s.returned_now for s in listed),
        ),
        services=listed,
    )


# ---------------------------------------------------------------------------- the figures


async def applications_per_day(
    database: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    services: frozenset[str] | None = None,
) -> ApplicationsPerDay:
    """Applications submitted in the window, per service and UTC day (one statement)."""
    async with database.engine.connect() as connection:
        return await _applications_per_day(connection, _utc(since), _utc(until), services)


async def decision_times(
    database: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    services: frozenset[str] | None = None,
) -> DecisionTimes:
    """How long the applications decided in the window took (one statement)."""
    async with database.engine.connect() as connection:
        return await _decision_times(connection, _utc(since), _utc(until), services)


async def returned_rate(
    database: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    services: frozenset[str] | None = None,
) -> ReturnedRate:
    """The share of the applications decided in the window that were returned for
    correction first, and how many are returned now (one statement)."""
    async with database.engine.connect() as connection:
        return await _returned_rate(connection, _utc(since), _utc(until), services)


async def overview(
    database: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    services: frozenset[str] | None = None,
) -> Overview:
    """The home page's figures: three statements on one connection."""
    since, until = _utc(since), _utc(until)
    async with database.engine.connect() as connection:
        return Overview(
            applications=await _applications_per_day(connection, since, until, services),
            decision_times=await _decision_times(connection, since, until, services),
            returned=await _returned_rate(connection, since, until, services),
        )
