"""Who is at the console: the dependencies every console page takes.

`Signed` is a person fully signed in (password, and one-time code when they have one);
a page that needs a role says so with `needs(role)`. A visitor who is not signed in is
sent to the sign-in page (303), one without the role gets a 403 page. Every form posts
its session's CSRF token, checked by `form_of` before anything is read from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from gateway.console.sessions import Sessions, WebSession
from gateway.runtime import Runtime
from state.access import Account, Principal, Role

MAX_FORM_FIELDS = 200  # a form with more is no form of ours
HOME = "/console/home"  # sends each person on to the page of their work


class SignInNeededError(Exception):
    """The visitor must sign in first; they come back to `next` afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class ConsoleClosedError(Exception):
    """No `GATEWAY_CONSOLE_SECRET`: the console cannot sign anyone in."""


@dataclass(frozen=True, slots=True)
class Signed:
    """A person signed in to the console, for one request."""

    account: Account
    session: WebSession
    principal: Principal

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def may(self, role: Role, service: str | None = None) -> bool:
        return self.principal.may(role, service)


def sessions_of(request: Request) -> Sessions:
    sessions = Runtime.of(request.app).console
    if sessions is None:
        raise ConsoleClosedError()
    return sessions


async def current(request: Request) -> tuple[Account, WebSession] | None:
    """The account and session of the request, whatever stage sign-in reached; None
    when there is none, or it no longer counts (disabled account, sessions ended)."""
    session = await sessions_of(request).read(request)
    if session is None:
        return None
    accounts = Runtime.of(request.app).accounts
    account = await accounts.get(session.account_id)
    if account is None or account.disabled:
        return None
    since = await accounts.sessions_since(account.id)
    if since is not None and session.started < since.replace(tzinfo=UTC).timestamp():
        return None
    return account, session


async def signed(request: Request) -> Signed:
    found = await current(request)
    if found is None or not found[1].signed_in:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        raise SignInNeededError(target if request.method == "GET" else HOME)
    account, session = found
    return Signed(account, session, Principal.of(account))


SignedDep = Annotated[Signed, Depends(signed)]


def needs(*roles: Role) -> Any:
    """A page for people holding one of `roles` (on some service, for limited ones): a
    `Depends` to annotate the page's `Signed` parameter with."""

    async def check(person: SignedDep) -> Signed:
        if not any(_holds(person.principal, role) for role in roles):
            raise HTTPException(403, "Your account does not have the role for this page.")
        return person

    return Depends(check)


def _holds(principal: Principal, role: Role) -> bool:
    return principal.bootstrap or any(g.role == role for g in principal.grants)


async def form_of(request: Request, session: WebSession) -> FormData:
    """The posted form, once its CSRF token is the session's (403 otherwise)."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    token = form.get("csrf")
    if not isinstance(token, str) or not session.csrf_matches(token):
        raise HTTPException(403, "This form has expired. Go back, reload the page and try again.")
    return form


def sign_in_url(next_path: str) -> str:
    """The sign-in page, coming back to `next_path` (a console path only)."""
    if not next_path.startswith("/console") or next_path.startswith("//"):
        next_path = HOME
    return "/console?next=" + quote(next_path, safe="/")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console page, never another site."""
    if not value or not value.startswith("/console/") or value.startswith("//"):
        return HOME
    if "\\" in value or any(ord(c) < 32 for c in value):
        return HOME
    return value
