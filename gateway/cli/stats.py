"""`gateway check --stats`: time to finish each service, per channel and language.

The model is `dialogs.stats` (pure); this module picks the session length (the flag, else
the model's default), gathers the warnings it gives and prints one compact table per service.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.problems import Problem, has_errors
from dialogs.stats import DEFAULT_USSD_SESSION_SECONDS, Estimate, estimates, session_problems
from gateway.catalog.repository import Repository

COLUMNS = ("channel", "lang", "screens", "read (chars)", "keys", "time (m:ss)")


@dataclass(frozen=True, slots=True)
class TimeToFinish:
    """The warnings (W420, W421) and the tables to print after them."""

    problems: list[Problem]
    text: str


def time_to_finish(repository: Repository, ussd_timeout: float | None = None) -> TimeToFinish:
    """Every compiled service of `repository` weighed; USSD paths held to the operator's
    session (`ussd_timeout`, else the typical 180 s)."""
    session = ussd_timeout if ussd_timeout is not None else DEFAULT_USSD_SESSION_SECONDS
    problems: list[Problem] = []
    tables = [
        "Time to finish for a typical citizen, shortest-longest path "
        f"(USSD session: {session:g} s; model: dialogs/stats.py)"
    ]
    for loaded in repository.loaded:
        service = repository.catalog.get(loaded.service_id)
        if service is None or has_errors(loaded.problems):
            continue  # not compiled: its errors come first
        found = estimates(service)
        problems += session_problems(loaded, found, session)
        tables.append(table(f"{service.id} v{service.version}", found))
    return TimeToFinish(problems, "\n".join(tables))


def table(title: str, found: list[Estimate]) -> str:
    """One row per channel and language: each figure as shortest-longest."""
    rows = [COLUMNS] + [
        (
            item.medium.value,
            item.lang,
            _span(item.shortest.cost.screens, item.longest.cost.screens),
            _span(item.shortest.cost.characters, item.longest.cost.characters),
            _span(item.shortest.cost.keys, item.longest.cost.keys),
            _span(_clock(item.shortest.cost.seconds), _clock(item.longest.cost.seconds)),
        )
        for item in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    weighed = found[0].paths if found else 0
    note = "" if all(item.complete for item in found) else " (more left out)"
    return "\n".join([f"{title}: {weighed} path(s){note}", *lines])


def _span(shortest: object, longest: object) -> str:
    return str(shortest) if shortest == longest else f"{shortest}-{longest}"


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
