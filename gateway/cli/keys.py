"""`gateway keys`: API keys for machines (add, list, revoke).

A key's secret is printed once, when it is made, and never again: only its SHA-256 is
stored (`state.api_keys`). Each change is written to the audit log, naming the operating
system's user who ran the command.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from gateway.cli.stores import cli_actor, describe, grants_detail, on_database, refusal
from state.access import LIMITABLE, Role

if TYPE_CHECKING:  # SQLAlchemy loads when a command runs, not with the CLI
    from state.api_keys import ApiKey
    from state.database import Database

app = typer.Typer(
    help="API keys for machines: add, list, revoke.",
    no_args_is_help=True,
    add_completion=False,
)

Name = Annotated[str, typer.Argument(help="The key's name: letters, digits, . _ - (any case).")]


def _when(at: datetime | None) -> str:
    return "never" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


@app.command()
def add(
    name: Name,
    role: Annotated[list[Role], typer.Option(help="A role (repeatable).")],
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="Limit officer or author to this service id (repeatable)."),
    ] = None,
) -> None:
    """Make a key; its secret is printed once."""
    from state.access import Grant
    from state.api_keys import ApiKeyStore
    from state.audit import Action, AuditLog

    services = service or []
    unlimitable = [r.value for r in role if r not in LIMITABLE]
    if services and unlimitable:  # as `gateway users add`: no silent widening or narrowing
        raise refusal(
            "keys", f"--service limits officer and author only, not {', '.join(unlimitable)}"
        )
    grants = [Grant(r, s) for r in role for s in services] if services else [Grant(r) for r in role]
    actor = cli_actor()

    async def work(database: Database) -> tuple[ApiKey, str]:
        key, secret = await ApiKeyStore(database).add(name, grants, actor)
        await AuditLog(database).record(
            actor, Action.KEY_CREATED, key.name, grants_detail(key.grants)
        )
        return key, secret

    key, secret = on_database("keys", work)
    typer.echo(f"added key {key.name}: {describe(key.grants)}")
    typer.echo(secret)
    typer.echo("Keep it now: it will not be shown again (only its hash is stored).", err=True)


@app.command("list")
def list_keys() -> None:
    """Every key: name, prefix, roles, status, made by, last used."""
    from state.api_keys import ApiKeyStore

    keys = on_database("keys", lambda database: ApiKeyStore(database).list())
    if not keys:
        typer.echo("no keys: make one with `gateway keys add NAME --role ...`")
        return
    rows = [("name", "prefix", "roles", "status", "created by", "last used")] + [
        (
            key.name,
            key.prefix + "…",
            describe(key.grants),
            "revoked" if key.revoked else "active",
            key.created_by,
            _when(key.last_used_at),
        )
        for key in keys
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@app.command()
def revoke(name: Name) -> None:
    """Refuse the key from now on (it stays listed, revoked)."""
    from state.api_keys import ApiKeyStore
    from state.audit import Action, AuditLog

    actor = cli_actor()

    async def work(database: Database) -> bool:
        revoked = await ApiKeyStore(database).revoke(name)
        if revoked:
            await AuditLog(database).record(actor, Action.KEY_REVOKED, name.strip().lower())
        return revoked

    if on_database("keys", work):
        typer.echo(f"revoked key {name.strip().lower()}")
    else:
        typer.echo(f"key {name.strip().lower()} was revoked already")
