"""Who may do what in the console, without the database: roles, grants, an account as
the rest of the gateway sees it, and the rules for emails and passwords.

Plain Python, so the CLI and (later) the console's pages check a request before opening
the database; `state.accounts` stores what passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"  # decides applications of the services assigned to them
    AUTHOR = "author"  # writes service drafts
    PUBLISHER = "publisher"  # publishes versions
    ANALYST = "analyst"  # reads figures
    ADMINISTRATOR = "administrator"  # people, roles, settings


# Only these work on particular services; the others act on the whole gateway.
LIMITABLE = frozenset({Role.OFFICER, Role.AUTHOR})

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; a megabyte "password" is an attack
MAX_EMAIL_LENGTH = 254  # RFC 5321's longest path
# What people type when they mean "set it later", as for the gateway's secrets, plus the
# passwords every cracking list starts with.
_PLACEHOLDER = re.compile(
    r"^(?:change[-_ ]?me|replace[-_ ]?me|your[-_ ]|placeholder|example|todo|fixme|xxx+|<"
    r"|passw(?:o|0)rd|123456|qwerty|letmein|admin)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$")  # no control characters


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    service: str | None = None  # None: every service


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the rest of the gateway sees it: no password hash."""

    id: int
    email: str
    created_at: datetime
    disabled: bool
    last_sign_in_at: datetime | None
    grants: tuple[Grant, ...]
    totp: bool = False  # has set up one-time codes

    def may(self, role: Role, service: str | None = None) -> bool:
        """Holds `role` on `service` (on every service when `service` is None)."""
        return any(g.role == role and g.service in (None, service) for g in self.grants)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking, as every check sees it: a person signed in to the console, a
    machine's API key, or the bootstrap administrator key (`GATEWAY_ADMIN_TOKEN`, which
    holds every role so that a fresh install can be run before anyone has an account)."""

    name: str  # an email, a key's name, or "bootstrap"
    grants: tuple[Grant, ...]
    bootstrap: bool = False

    @property
    def label(self) -> str:
        """How records name who acted: `bootstrap`, `key:NAME`, or a person's email."""
        if self.bootstrap:
            return "bootstrap"
        return self.name if "@" in self.name else f"key:{self.name}"

    def may(self, role: Role, service: str | None = None) -> bool:
        """Holds `role` on `service` (on every service when `service` is None)."""
        return self.bootstrap or any(
            g.role == role and g.service in (None, service) for g in self.grants
        )

    def services(self, role: Role) -> frozenset[str] | None:
        """The services `role` is held on; None: every service (or the role on none
        of them: an empty set)."""
        if self.bootstrap or any(g.role == role and g.service is None for g in self.grants):
            return None
        return frozenset(g.service for g in self.grants if g.role == role and g.service)

    @classmethod
    def of(cls, account: Account) -> Principal:
        return cls(account.email, account.grants)


class AccountError(ValueError):
    """A change refused, with a message for the person who asked for it."""


def normal_email(email: str) -> str:
    """The stored form: trimmed, lower case; refused when it cannot be an address."""
    text = email.strip().lower()
    if not _EMAIL.match(text) or len(text) > MAX_EMAIL_LENGTH:
        raise AccountError(f"{email!r} is not an email address")
    return text


def password_problem(password: str) -> str | None:
    """Why `password` may not be set, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    if _PLACEHOLDER.match(password.strip()) or len(set(password)) < 4:
        return "this password is a placeholder or too easy to guess: choose another"
    return None


def check_grant(grant: Grant) -> None:
    if grant.service is not None and grant.role not in LIMITABLE:
        raise AccountError(
            f"{grant.role} cannot be limited to a service (only officer and author can)"
        )


def merged(grants: Iterable[Grant]) -> list[Grant]:
    """The grants without repeats; a role held on every service drops its limited rows."""
    unique = list(dict.fromkeys(grants))
    everywhere = {g.role for g in unique if g.service is None}
    return [g for g in unique if g.service is None or g.role not in everywhere]
