"""`gateway report SERVICE`: the drop-off funnel of a service as a table in the terminal.

Reads the archived events from the database of the settings (`GATEWAY_DATABASE_URL`, or
SQLite under `GATEWAY_VAR_DIR`): what the worker has drained from the event stream (or
`gateway serve`, when it runs the worker), `state.events.ARCHIVE_SECONDS` behind at most.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from gateway.catalog.repository import load_repository
from gateway.settings import Settings

if TYPE_CHECKING:  # SQLAlchemy and the analytics load when a report runs, not with the CLI
    from gateway.analytics.funnel import Funnel

HEADERS = ("Step", "Reached", "Dropped", "Invalid", "Median time")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)} min {seconds % 60:.0f} s"
    return f"{seconds / 3600:.1f} h"


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f} %"


def render(result: Funnel) -> str:
    """The funnel as plain text: totals, channels, then one row a step."""
    lines = [
        f"{result.title} ({result.service})"
        + (f", channel {result.channel}" if result.channel else ""),
        f"started {result.started}, completed {result.completed}, "
        f"completion rate {percent(result.completion_rate)}",
    ]
    for name, totals in result.by_channel.items():
        lines.append(
            f"  {name}: started {totals.started}, completed {totals.completed}, "
            f"completion rate {percent(totals.completion_rate)}"
        )
    rows = [
        (
            step.label if step.label == step.step else f"{step.label} [{step.step}]",
            str(step.reached),
            str(step.dropped),
            str(step.invalid),
            duration(step.median_seconds),
        )
        for step in result.steps
    ]
    widths = [max(len(row[i]) for row in [HEADERS, *rows]) for i in range(len(HEADERS))]

    def line(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    lines += ["", line(HEADERS), "  ".join("-" * width for width in widths)]
    lines += [line(row) for row in rows]
    return "\n".join(lines)


def report(
    service: Annotated[str, typer.Argument(help="The service id, e.g. business-registration.")],
    since: Annotated[
        datetime | None, typer.Option(help="Attempts started on or after (UTC), e.g. 2026-01-01.")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="... and before (UTC).")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel (ussd, sms...).")] = None,
) -> None:
    """Print where citizens get stuck in a service: its funnel, step by step."""
    settings = Settings()
    # A service no longer in the folder (withdrawn) is reported from its conversations,
    # its steps named by their ids.
    compiled = load_repository([settings.services_dir]).catalog.get(service)

    from gateway.analytics.funnel import funnel, recorded
    from state.database import Database, database_url

    async def run() -> Funnel | None:
        database = Database(database_url(settings.database_url, settings.var_dir))
        try:
            await database.migrate()  # a gateway never started yet: an empty funnel
            if compiled is None and not await recorded(database, service):
                return None
            return await funnel(
                database, service, service=compiled, since=since, until=until, channel=channel
            )
        finally:
            await database.close()

    result = asyncio.run(run())
    if result is None:
        typer.echo(
            f"unknown service {service!r}: not in {settings.services_dir}, no records", err=True
        )
        raise typer.Exit(2)
    typer.echo(render(result))
