"""Drop-off analytics: where citizens get stuck in a service, from the archived events.

Civil servants simplify a procedure where citizens give up or keep typing wrong answers;
this counts both, step by step and channel by channel (a step fine on web chat may be too
long for a USSD screen).

Definitions (`state/events.py` archives the events the engine emits):
- An *attempt* is one run of the service in one conversation: from its `started` event to
  the next one (a `restarted` or `started` again opens a new attempt).
- *started*: attempts begun in the window `[since, until)`; each is followed to its end,
  even past `until`, so every figure below describes the same citizens (a cohort).
- *completed*: attempts that reached an end step (`completed`).
- per step, *reached*: attempts with any event at the step; a conversation still in
  flight is counted at its current step once something happens there (an answer, an
  invalid one, its expiry). With branches, a later step may be reached by fewer.
- *dropped*: attempts that ended at the step without completing: expired there, stopped
  (`stop`), left for the main menu or switched to another service. A restart is not a
  drop (the citizen goes on, in a new attempt).
- *invalid*: answers the step refused (every one: three tries count three).
- *median_seconds*: from arriving at the step to its accepted answer. Arrival is the
  attempt's previous event that moved the citizen (`started`, an answer, `back`, `edit`,
  a lookup or submission result, or `resumed` after a break), so refused tries are part of
  the time spent, and hours away before a resumption are not.
- Each event counts on the channel it happened on (a conversation resumed on SMS after
  USSD counts its later steps on SMS); `expired` has no channel and takes the previous
  event's. With `channel`, the top-level figures are that channel's.

Scale: rows are read in one query ordered by conversation and folded in Python one
conversation at a time, so memory holds one conversation plus one float per accepted
answer. Fine up to about 1e6 events a service and window (seconds); beyond that, keep a
daily roll-up per (service, day, channel, step) updated by the archiver, or compute the
same figures in PostgreSQL with `LAG() OVER (PARTITION BY conversation ORDER BY id)`.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from dialogs.compiler import CompiledService
from dialogs.text import localise
from state.database import Database
from state.events import EVENTS, stream_order

UNKNOWN_CHANNEL = "unknown"
DROPS = frozenset({"expired", "stopped", "left", "switched"})
# Events that bring the citizen to a step (or back to it after a break).
ARRIVALS = frozenset({"started", "answered", "back", "edit", "lookup", "submitted", "resumed"})


@dataclass(frozen=True, slots=True)
class StepFigures:
    reached: int = 0
    dropped: int = 0
    invalid: int = 0
    median_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class StepFunnel:
    """One step of the service, in the service's order."""

    step: str
    label: str
    kind: str  # input, effect, final; "" for a step only an older version had
    reached: int
    dropped: int
    invalid: int
    median_seconds: float | None
    by_channel: dict[str, StepFigures]


@dataclass(frozen=True, slots=True)
class ChannelTotals:
    started: int = 0
    completed: int = 0
    completion_rate: float | None = None


@dataclass(frozen=True, slots=True)
class Funnel:
    service: str
    title: str
    since: datetime | None
    until: datetime | None
    channel: str | None
    started: int
    completed: int
    completion_rate: float | None
    steps: list[StepFunnel]
    by_channel: dict[str, ChannelTotals] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        """Plain JSON-ready data (times in ISO 8601)."""
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        data["until"] = self.until.isoformat() if self.until else None
        return data


@dataclass
class _Tally:
    """Counts keyed by (step, channel), and totals keyed by channel."""

    started: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    completed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reached: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    dropped: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    invalid: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    seen_steps: dict[str, None] = field(default_factory=dict)  # in first-seen order

    def by_step(self) -> tuple[dict[tuple[str, str], Any], ...]:
        return (self.reached, self.dropped, self.invalid, self.seconds)


@dataclass
class _Attempt:
    channel: str
    arrived: datetime
    steps: set[str] = field(default_factory=set)


def _fold(tally: _Tally, rows: list[Any], until: datetime | None) -> None:
    """Count one conversation's events (all of one service), oldest first."""
    rows.sort(key=lambda row: stream_order(row.stream_id))
    attempt: _Attempt | None = None
    for row in rows:
        kind: str = row.event
        if kind == "started":
            if until is not None and row.at >= until:
                attempt = None  # begun after the window: not in this cohort
                continue
            attempt = _Attempt(row.channel or UNKNOWN_CHANNEL, row.at)
            tally.started[attempt.channel] += 1
        if attempt is None:
            continue  # before the first start in the window, or after the attempt ended
        channel = row.channel or attempt.channel
        attempt.channel = channel
        step: str | None = row.step
        if step is not None:
            tally.seen_steps.setdefault(step, None)
            if step not in attempt.steps:
                attempt.steps.add(step)
                tally.reached[step, channel] += 1
            if kind == "invalid":
                tally.invalid[step, channel] += 1
            elif kind == "answered":
                spent = (row.at - attempt.arrived).total_seconds()
                tally.seconds[step, channel].append(max(spent, 0.0))
            elif kind in DROPS:
                tally.dropped[step, channel] += 1
        if kind in ARRIVALS:
            attempt.arrived = row.at
        elif kind == "completed":
            tally.completed[channel] += 1
        if kind == "completed" or kind == "restarted" or kind in DROPS:
            attempt = None


def _rate(completed: int, started: int) -> float | None:
    return round(completed / started, 4) if started else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def step_label(service: CompiledService | None, step: str) -> tuple[str, str]:
    """A step's short English name and its kind: its `label`, else a plain prompt (one
    without a template), else its id made readable."""
    current = service.steps.get(step) if service else None
    readable = step.replace("_", " ").capitalize()
    if current is None:
        return readable, ""
    for attribute in ("label", "prompt"):
        text = localise(getattr(current, attribute, None), "en").strip()
        if text and "{{" not in text and "{%" not in text:
            return (text if len(text) <= 40 else text[:39] + "…"), current.kind
    return readable, current.kind


def events_query(service_id: str, since: datetime | None, until: datetime | None) -> Select[Any]:
    """The events of the attempts started in the window, ordered by conversation (the
    `(service, at)` index finds both the starts and the events)."""
    starts = select(EVENTS.c.conversation).where(
        EVENTS.c.service == service_id, EVENTS.c.event == "started"
    )
    query = select(
        EVENTS.c.stream_id,
        EVENTS.c.at,
        EVENTS.c.event,
        EVENTS.c.step,
        EVENTS.c.channel,
        EVENTS.c.conversation,
    ).where(EVENTS.c.service == service_id, EVENTS.c.conversation.is_not(None))
    if since is not None:
        starts = starts.where(EVENTS.c.at >= since)
        query = query.where(EVENTS.c.at >= since)
    if until is not None:
        starts = starts.where(EVENTS.c.at < until)
    return query.where(EVENTS.c.conversation.in_(starts)).order_by(EVENTS.c.conversation)


async def recorded(database: Database, service_id: str) -> bool:
    """Whether any conversation of `service_id` was archived: a service withdrawn since
    still has figures worth seeing."""
    query = select(EVENTS.c.service).where(EVENTS.c.service == service_id).limit(1)
    async with database.engine.connect() as connection:
        return (await connection.execute(query)).first() is not None


async def funnel(
    database: Database,
    service_id: str,
    *,
    service: CompiledService | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    channel: str | None = None,
) -> Funnel:
    """The funnel of `service_id` (every version) for attempts started in the window.

    `service`: the compiled service, whose order and labels the steps follow; steps only
    an older version had come after them, in the order they were met."""
    tally = _Tally()
    async with database.engine.connect() as connection:
        result = await connection.stream(events_query(service_id, since, until))
        conversation: str | None = None
        rows: list[Any] = []
        async for row in result:
            if row.conversation != conversation:
                _fold(tally, rows, until)
                conversation, rows = row.conversation, []
            rows.append(row)
        _fold(tally, rows, until)
    return _summarise(tally, service_id, service, since, until, channel)


def _summarise(
    tally: _Tally,
    service_id: str,
    service: CompiledService | None,
    since: datetime | None,
    until: datetime | None,
    channel: str | None,
) -> Funnel:
    keyed = (name for counts in tally.by_step() for _, name in counts)
    channels = sorted({*tally.started, *tally.completed, *keyed})
    if channel is not None:
        channels = [channel]
    order = list(service.order) if service else []
    order += [step for step in tally.seen_steps if step not in order]
    steps = []
    for step in order:
        by_channel = {
            name: StepFigures(
                reached=tally.reached.get((step, name), 0),
                dropped=tally.dropped.get((step, name), 0),
                invalid=tally.invalid.get((step, name), 0),
                median_seconds=_median(tally.seconds.get((step, name), [])),
            )
            for name in channels
            if any((step, name) in counts for counts in tally.by_step())
        }
        label, kind = step_label(service, step)
        steps.append(
            StepFunnel(
                step=step,
                label=label,
                kind=kind,
                reached=sum(f.reached for f in by_channel.values()),
                dropped=sum(f.dropped for f in by_channel.values()),
                invalid=sum(f.invalid for f in by_channel.values()),
                median_seconds=_median(
                    [s for name in channels for s in tally.seconds.get((step, name), [])]
                ),
                by_channel=by_channel,
            )
        )
    totals = {
        name: ChannelTotals(
            started=tally.started.get(name, 0),
            completed=tally.completed.get(name, 0),
            completion_rate=_rate(tally.completed.get(name, 0), tally.started.get(name, 0)),
        )
        for name in channels
    }
    started = sum(t.started for t in totals.values())
    completed = sum(t.completed for t in totals.values())
    return Funnel(
        service=service_id,
        title=localise(service.definition.title, "en") if service else service_id,
        since=since,
        until=until,
        channel=channel,
        started=started,
        completed=completed,
        completion_rate=_rate(completed, started),
        steps=steps,
        by_channel=totals,
    )
