"""What `gateway users` and `gateway keys` share: the gateway's own database, migrated
first (so a fresh install can be set up before the gateway ever started), a refusal
as exit status 2 with its reason, and who the audit log names as having acted.
"""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

import typer

from gateway.settings import Settings

if TYPE_CHECKING:  # SQLAlchemy loads when a command runs, not with the CLI
    from state.access import Grant
    from state.database import Database

T = TypeVar("T")


def refusal(command: str, message: str) -> typer.Exit:
    typer.echo(f"gateway {command}: {message}", err=True)
    return typer.Exit(2)


def on_database(command: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """`work` on the gateway's database (`GATEWAY_DATABASE_URL`, or SQLite under
    `GATEWAY_VAR_DIR`); a refused change (`AccountError`) exits 2 with its reason."""
    from state.access import AccountError
    from state.database import Database, database_url

    settings = Settings()

    async def run() -> T:
        database = Database(database_url(settings.database_url, settings.var_dir))
        try:
            await database.migrate()
            return await work(database)
        finally:
            await database.close()

    try:
        return asyncio.run(run())
    except AccountError as exc:
        raise refusal(command, str(exc)) from None


def cli_actor() -> str:
    """`cli:` and the operating system's user: whoever ran the command on the server (the
    terminal has no account of the gateway's to name)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container's uid with no passwd entry
        user = f"uid {os.getuid()}"
    return f"cli:{user}"


def describe(grants: Iterable[Grant]) -> str:
    """`officer (births, land), analyst`: each role with its services, if limited."""
    services: dict[str, list[str]] = {}
    for grant in grants:
        services.setdefault(grant.role.value, [])
        if grant.service is not None:
            services[grant.role.value].append(grant.service)
    parts = [f"{role} ({', '.join(limit)})" if limit else role for role, limit in services.items()]
    return ", ".join(parts) or "no role"


def grants_detail(grants: Iterable[Grant]) -> dict[str, list[dict[str, str | None]]]:
    """Grants as the audit log's detail of an entry."""
    return {"grants": [{"role": g.role.value, "service": g.service} for g in grants]}
