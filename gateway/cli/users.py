"""`gateway users`: the civil servants' accounts (add, list, disable, enable, reset, roles).

Works on the gateway's own database (`GATEWAY_DATABASE_URL`, or SQLite under
`GATEWAY_VAR_DIR`), migrating it first, so the first administrator can be made on a fresh
install before the gateway ever started. Passwords come from standard input, one line,
never from an argument (the shell history and `ps` would keep it) and are never printed.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from gateway.settings import Settings
from state.access import LIMITABLE, Role

if TYPE_CHECKING:  # SQLAlchemy and argon2 load when a command runs, not with the CLI
    from state.access import Account, Grant
    from state.accounts import AccountStore

app = typer.Typer(
    help="Civil servants' accounts: add, list, disable, enable, reset, roles.",
    no_args_is_help=True,
    add_completion=False,
)
T = TypeVar("T")

Email = Annotated[str, typer.Argument(help="The person's email address (any case).")]
Services = Annotated[
    list[str] | None,
    typer.Option("--service", help="Limit officer or author to this service id (repeatable)."),
]


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"gateway users: {message}", err=True)
    return typer.Exit(2)


def _run(work: Callable[[AccountStore], Awaitable[T]]) -> T:
    """`work` on the gateway's database; a refused change exits 2 with its reason."""
    from state.access import AccountError
    from state.accounts import AccountStore
    from state.database import Database, database_url

    settings = Settings()

    async def run() -> T:
        database = Database(database_url(settings.database_url, settings.var_dir))
        try:
            await database.migrate()
            return await work(AccountStore(database))
        finally:
            await database.close()

    try:
        return asyncio.run(run())
    except AccountError as exc:
        raise _refuse(str(exc)) from None


def _password() -> str:
    """One line of standard input; at a terminal, typed twice without echo."""
    from state.access import password_problem

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise _refuse("the two passwords differ")
    else:
        line = sys.stdin.readline()
        if not line:
            raise _refuse("no password on standard input (one line)")
        password = line.rstrip("\r\n")
    problem = password_problem(password)
    if problem:  # checked before the database is opened: nothing half done
        raise _refuse(problem)
    return password


def _grants(roles: list[Role], services: list[str]) -> list[Grant]:
    from state.access import Grant

    # Strict: `--role officer --role publisher --service births` reads as a publisher of
    # births only, which the gateway does not have; the other roles are added separately.
    unlimitable = [role.value for role in roles if role not in LIMITABLE]
    if services and unlimitable:
        raise _refuse(
            f"--service limits officer and author only, not {', '.join(unlimitable)}: "
            "add those with `gateway users roles EMAIL --add ROLE`"
        )
    if not services:
        return [Grant(role) for role in roles]
    return [Grant(role, service) for role in roles for service in services]


def describe(account: Account) -> str:
    """`officer (births, land), analyst`: each role with its services, if limited."""
    services: dict[str, list[str]] = {}
    for grant in account.grants:
        services.setdefault(grant.role.value, [])
        if grant.service is not None:
            services[grant.role.value].append(grant.service)
    parts = [f"{role} ({', '.join(limit)})" if limit else role for role, limit in services.items()]
    return ", ".join(parts) or "no role"


def _when(at: datetime | None) -> str:
    return "never" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


@app.command()
def add(
    email: Email,
    role: Annotated[list[Role], typer.Option(help="A role (repeatable).")],
    service: Services = None,
) -> None:
    """Create an account; its password is read from standard input."""
    grants = _grants(role, service or [])
    password = _password()
    account = _run(lambda store: store.add(email, password, grants))
    typer.echo(f"added {account.email}: {describe(account)}")


@app.command("list")
def list_accounts() -> None:
    """Every account: email, roles (with their services), status, last sign-in."""
    accounts = _run(lambda store: store.list())
    if not accounts:
        typer.echo("no accounts: create the first with `gateway users add EMAIL --role ...`")
        return
    rows = [("email", "roles", "status", "last sign-in")] + [
        (
            account.email,
            describe(account),
            "disabled" if account.disabled else "active",
            _when(account.last_sign_in_at),
        )
        for account in accounts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@app.command()
def disable(email: Email) -> None:
    """Stop an account from signing in (it is kept, with its roles)."""
    account = _run(lambda store: store.disable(email))
    typer.echo(f"disabled {account.email}")


@app.command()
def enable(email: Email) -> None:
    """Let a disabled account sign in again."""
    account = _run(lambda store: store.enable(email))
    typer.echo(f"enabled {account.email}")


@app.command()
def reset(email: Email) -> None:
    """Set a new password, read from standard input."""
    password = _password()
    account = _run(lambda store: store.set_password(email, password))
    typer.echo(f"new password set for {account.email}")


@app.command()
def roles(
    email: Email,
    add_role: Annotated[Role | None, typer.Option("--add", help="Give this role.")] = None,
    remove_role: Annotated[Role | None, typer.Option("--remove", help="Take it away.")] = None,
    service: Services = None,
) -> None:
    """Give or take away a role, on every service or (--service) on some."""
    if (add_role is None) == (remove_role is None):
        raise _refuse("say one of --add ROLE or --remove ROLE")
    role = add_role or remove_role
    assert role is not None  # one of the two, checked above
    grants = _grants([role], service or [])

    async def change(store: AccountStore) -> tuple[int, Account | None]:
        changed = 0
        for grant in grants:
            if add_role is not None:
                changed += await store.grant(email, grant)
            else:
                changed += await store.revoke(email, grant.role, grant.service)
        return changed, await store.get_by_email(email)

    changed, account = _run(change)
    assert account is not None  # the store refused an unknown email already
    if not changed:
        typer.echo("nothing changed: " + ("held already" if add_role else "not held"))
    typer.echo(f"{account.email}: {describe(account)}")
