"""`gateway users`: the civil servants' accounts (add, list, disable, enable, reset, roles).

Works on the gateway's own database (`GATEWAY_DATABASE_URL`, or SQLite under
`GATEWAY_VAR_DIR`), migrating it first, so the first administrator can be made on a fresh
install before the gateway ever started. Passwords come from standard input, one line,
never from an argument (the shell history and `ps` would keep it) and are never printed.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from gateway.cli.stores import cli_actor, grants_detail, on_database, refusal
from gateway.cli.stores import describe as describe_grants
from state.access import LIMITABLE, Role, normal_email

if TYPE_CHECKING:  # SQLAlchemy and argon2 load when a command runs, not with the CLI
    from state.access import Account, Grant
    from state.accounts import AccountStore
    from state.audit import AuditLog

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
    return refusal("users", message)


def _run(work: Callable[[AccountStore, AuditLog], Awaitable[T]]) -> T:
    """`work` on the gateway's database, with the audit log each change is written to; a
    refused change exits 2 with its reason."""
    from state.accounts import AccountStore
    from state.audit import AuditLog

    return on_database("users", lambda database: work(AccountStore(database), AuditLog(database)))


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
    return describe_grants(account.grants)


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
    actor = cli_actor()

    async def work(store: AccountStore, audit: AuditLog) -> Account:
        from state.audit import Action

        account = await store.add(email, password, grants)
        detail = grants_detail(account.grants)
        await audit.record(actor, Action.ACCOUNT_CREATED, account.email, detail)
        return account

    account = _run(work)
    typer.echo(f"added {account.email}: {describe(account)}")


@app.command("list")
def list_accounts() -> None:
    """Every account: email, roles (with their services), status, last sign-in."""
    accounts = _run(lambda store, _audit: store.list())
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


def _change(email: str, action: str) -> Account:
    """Disable, enable or reset (`action`, the audit log's word), recorded once done."""
    from state.audit import Action

    done = Action(action)
    password = _password() if done == Action.PASSWORD_RESET else ""
    actor = cli_actor()

    async def work(store: AccountStore, audit: AuditLog) -> Account:
        if done == Action.ACCOUNT_DISABLED:
            account = await store.disable(email)
        elif done == Action.ACCOUNT_ENABLED:
            account = await store.enable(email)
        else:
            account = await store.set_password(email, password)
        await audit.record(actor, done, account.email)
        return account

    return _run(work)


@app.command()
def disable(email: Email) -> None:
    """Stop an account from signing in (it is kept, with its roles)."""
    typer.echo(f"disabled {_change(email, 'account_disabled').email}")


@app.command()
def enable(email: Email) -> None:
    """Let a disabled account sign in again."""
    typer.echo(f"enabled {_change(email, 'account_enabled').email}")


@app.command()
def reset(email: Email) -> None:
    """Set a new password, read from standard input."""
    typer.echo(f"new password set for {_change(email, 'password_reset').email}")


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
    actor = cli_actor()

    async def change(store: AccountStore, audit: AuditLog) -> tuple[int, Account | None]:
        from state.audit import Action

        changed = 0
        for grant in grants:
            if add_role is not None:
                done = int(await store.grant(email, grant))
            else:
                done = await store.revoke(email, grant.role, grant.service)
            if done:  # what changed only: a role held already is no event
                action = Action.ROLE_GRANTED if add_role else Action.ROLE_REVOKED
                await audit.record(actor, action, normal_email(email), grants_detail([grant]))
            changed += done
        return changed, await store.get_by_email(email)

    changed, account = _run(change)
    assert account is not None  # the store refused an unknown email already
    if not changed:
        typer.echo("nothing changed: " + ("held already" if add_role else "not held"))
    typer.echo(f"{account.email}: {describe(account)}")
