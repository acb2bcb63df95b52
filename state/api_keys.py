"""API keys: how machines (a back office, a dashboard, a script) use the API, each under a
name of its own and with the roles it was given, never with the bootstrap admin token.

The secret (`gwk_` and 32 random bytes) is shown once, when the key is made, and stored
only as its SHA-256: with 256 random bits nobody can guess or brute-force it, so the slow
password hashes (argon2) would add cost to every API request and no safety. A key is
found by its hash (an index lookup), so no comparison of secrets runs character by
character. The first characters (`prefix`) are kept in clear, to tell keys apart in a list.

Keys are revoked, never deleted: the audit log names them, and a name is never reused.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from state.access import (
    MAX_EMAIL_LENGTH,
    AccountError,
    Grant,
    Principal,
    Role,
    check_grant,
    merged,
)
from state.database import Base, Database, now

SECRET_PREFIX = "gwk_"  # says what it is to a secret scanner and to whoever finds one
SECRET_BYTES = 32
PREFIX_LENGTH = len(SECRET_PREFIX) + 8  # shown in lists: 48 bits, never enough to guess
MAX_NAME_LENGTH = 64
# A secret is never longer: anything else is refused before the database is asked.
_SECRET = re.compile(r"^gwk_[A-Za-z0-9_-]{43}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# Writing last_used_at on every request would turn each read into a write transaction:
# to the minute is what "is this key still in use?" needs.
USE_RECORDED_EVERY = timedelta(minutes=1)


class ApiKeyError(AccountError):
    """A key refused (a bad or taken name, a role that cannot be limited), with a message."""


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH), unique=True)
    prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, hex
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    created_by: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)


class ApiKeyGrantRow(Base):
    """One role of a key, on one service or (service NULL) on every service."""

    __tablename__ = "api_key_grants"
    __table_args__ = (UniqueConstraint("key_id", "role", "service", name="uq_api_key_grant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    service: Mapped[str | None] = mapped_column(String(80), nullable=True)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as the rest of the gateway sees it: no secret, no hash."""

    id: int
    name: str
    prefix: str  # the secret's first characters, e.g. `gwk_Xb3k9QzA`
    grants: tuple[Grant, ...]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def principal(self) -> Principal:
        return Principal(self.name, self.grants)


def normal_name(name: str) -> str:
    """The stored form of a key's name: trimmed, lower case; refused unless it is 1 to 64
    letters, digits, dots, dashes or underscores (it goes in logs and the audit log)."""
    text = name.strip().lower()
    if not text or len(text) > MAX_NAME_LENGTH or not _NAME.match(text):
        raise ApiKeyError(
            f"{name!r} is not a key name: use 1 to {MAX_NAME_LENGTH} letters, digits, "
            "dots, dashes or underscores, starting with a letter or digit"
        )
    return text


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyStore:
    """Machines' keys and their roles, in the database."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = now) -> None:
        self.database = database
        self.clock = clock  # tests move it on, to see last_used_at recorded again

    async def add(self, name: str, grants: Iterable[Grant], created_by: str) -> tuple[ApiKey, str]:
        """A new key and its secret; the secret is not stored and cannot be shown again."""
        stored_name = normal_name(name)
        wanted = merged(grants)
        if not wanted:
            raise ApiKeyError("a key needs at least one role: without one it can do nothing")
        for grant in wanted:
            check_grant(grant)
        secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        try:
            async with self.database.sessions() as session, session.begin():
                row = ApiKeyRow(
                    name=stored_name,
                    prefix=secret[:PREFIX_LENGTH],
                    secret_hash=secret_hash(secret),
                    created_at=self.clock(),
                    created_by=created_by[:MAX_EMAIL_LENGTH],
                )
                session.add(row)
                await session.flush()
                session.add_all(
                    ApiKeyGrantRow(key_id=row.id, role=g.role.value, service=g.service)
                    for g in wanted
                )
        except IntegrityError as exc:  # the unique name (a revoked key keeps its name)
            raise ApiKeyError(f"a key named {stored_name} exists already") from exc
        found = await self.get(stored_name)
        assert found is not None  # just committed
        return found, secret

    async def get(self, name: str) -> ApiKey | None:
        try:
            stored_name = normal_name(name)
        except ApiKeyError:
            return None
        async with self.database.sessions() as session:
            row = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.name == stored_name))
            return None if row is None else (await _keys(session, [row]))[0]

    async def list(self) -> list[ApiKey]:
        """Every key, revoked ones too, by name."""
        async with self.database.sessions() as session:
            rows = (await session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.name))).all()
            return await _keys(session, rows)

    async def any_active(self) -> bool:
        """Whether some key is not revoked (with none, and no bootstrap key, the API is
        closed rather than asking for a key nobody has)."""
        async with self.database.sessions() as session:
            found = await session.scalar(
                select(ApiKeyRow.id).where(ApiKeyRow.revoked_at.is_(None)).limit(1)
            )
            return found is not None

    async def revoke(self, name: str) -> bool:
        """Refuse the key from now on; False when it was revoked already."""
        stored_name = normal_name(name)
        async with self.database.sessions() as session, session.begin():
            row = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.name == stored_name))
            if row is None:
                raise ApiKeyError(f"no key named {stored_name}")
            if row.revoked_at is not None:
                return False
            row.revoked_at = self.clock()
            return True

    async def authenticate(self, secret: str) -> ApiKey | None:
        """The key whose secret this is, unless revoked; None otherwise."""
        if not _SECRET.match(secret):  # not one of ours: the database is not asked
            return None
        async with self.database.sessions() as session:
            row = await session.scalar(
                select(ApiKeyRow).where(ApiKeyRow.secret_hash == secret_hash(secret))
            )
            if row is None or row.revoked_at is not None:
                return None
            key = (await _keys(session, [row]))[0]
        at = self.clock()
        if row.last_used_at is None or at - row.last_used_at >= USE_RECORDED_EVERY:
            await self._used(row.id, at)
        return key

    async def _used(self, key_id: int, at: datetime) -> None:
        # Conditional, so that of many processes using one key at once, one writes.
        async with self.database.sessions() as session, session.begin():
            await session.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id)
                .where(
                    (ApiKeyRow.last_used_at.is_(None))
                    | (ApiKeyRow.last_used_at <= at - USE_RECORDED_EVERY)
                )
                .values(last_used_at=at)
            )


async def _keys(session: AsyncSession, rows: Iterable[ApiKeyRow]) -> list[ApiKey]:
    """The rows as `ApiKey`s, with their grants (roles in the enum's order)."""
    found = list(rows)
    grants: dict[int, list[Grant]] = {row.id: [] for row in found}
    if found:
        for grant_row in await session.scalars(
            select(ApiKeyGrantRow).where(ApiKeyGrantRow.key_id.in_(list(grants)))
        ):
            grants[grant_row.key_id].append(Grant(Role(grant_row.role), grant_row.service))
    order = list(Role)
    return [
        ApiKey(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            grants=tuple(
                sorted(grants[row.id], key=lambda g: (order.index(g.role), g.service or ""))
            ),
            created_at=row.created_at,
            created_by=row.created_by,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )
        for row in found
    ]
