"""Civil servants' accounts: who signs in to the console, and what each one may do.

Everyone has an account of their own (nobody shares a token), with one or more roles;
officers and authors can be limited to some services. Passwords are hashed with argon2id
(argon2-cffi's `PasswordHasher`, RFC 9106's recommended parameters) and never leave this
module: an `Account` (state/access.py, with the roles and the rules for emails and
passwords) carries no hash, so one can be shown or logged without a thought.

Hashing costs tens of milliseconds and 64 MiB on purpose, so it runs in a thread: a
sign-in must not stall the event loop that answers citizens.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from state.access import (
    MAX_EMAIL_LENGTH,
    Account,
    AccountError,
    Grant,
    Role,
    check_grant,
    merged,
    normal_email,
    password_problem,
)
from state.database import Base, Database
from state.submissions import utcnow


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH), unique=True)  # lower case
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    # Accounts are disabled, never deleted: decisions will name the officer who made them.
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=False), nullable=True
    )
    # The base32 secret of the person's one-time codes (TOTP), once they set one up.
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Console sessions begun before this no longer count (a new password, "sign out
    # everywhere", a disabled account enabled again).
    sessions_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)


class AccountRoleRow(Base):
    """One role of an account, on one service or (service NULL) on every service."""

    __tablename__ = "account_roles"
    # NULLs are distinct in a unique constraint (SQLite, PostgreSQL < 15): the store keeps
    # a role held on every service to one row itself.
    __table_args__ = (UniqueConstraint("account_id", "role", "service", name="uq_account_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    service: Mapped[str | None] = mapped_column(String(80), nullable=True)


class AccountStore:
    """Accounts and their roles, in the database."""

    def __init__(self, database: Database, hasher: PasswordHasher | None = None) -> None:
        self.database = database
        self.hasher = hasher or PasswordHasher()  # argon2id
        self._decoy: str | None = None  # a hash to check unknown emails against

    async def add(self, email: str, password: str, grants: Iterable[Grant]) -> Account:
        address = normal_email(email)
        wanted = list(grants)
        for grant in wanted:
            check_grant(grant)
        hashed = await self._hash(password)
        try:
            async with self.database.sessions() as session, session.begin():
                row = AccountRow(
                    email=address, password_hash=hashed, created_at=utcnow(), disabled=False
                )
                session.add(row)
                await session.flush()
                session.add_all(
                    AccountRoleRow(account_id=row.id, role=g.role.value, service=g.service)
                    for g in merged(wanted)
                )
        except IntegrityError as exc:  # the unique email: two `add`s raced, or a repeat
            raise AccountError(f"{address} has an account already") from exc
        return await self._found(address)

    async def get_by_email(self, email: str) -> Account | None:
        try:
            address = normal_email(email)
        except AccountError:
            return None
        async with self.database.sessions() as session:
            row = await session.scalar(select(AccountRow).where(AccountRow.email == address))
            return None if row is None else (await _accounts(session, [row]))[0]

    async def list(self) -> list[Account]:
        async with self.database.sessions() as session:
            rows = (await session.scalars(select(AccountRow).order_by(AccountRow.email))).all()
            return await _accounts(session, rows)

    async def disable(self, email: str) -> Account:
        return await self._change(email, disabled=True)

    async def enable(self, email: str) -> Account:
        return await self._change(email, disabled=False)

    async def set_password(self, email: str, password: str) -> Account:
        """A new password; the sessions begun with the old one end."""
        return await self._change(
            email, password_hash=await self._hash(password), sessions_since=utcnow()
        )

    async def signed_on(self, email: str, grants: Iterable[Grant]) -> Account:
        """The account of someone the government's single sign-on vouched for, made on
        their first sign-in, with the roles the provider gives them now (its claim is
        the record: a role taken away there is gone here at the next sign-in). Such an
        account has no usable password: a random one nobody ever saw."""
        wanted = merged(grants)
        for grant in wanted:
            check_grant(grant)
        if await self.get_by_email(email) is None:
            try:
                return await self.add(email, secrets.token_urlsafe(32), wanted)
            except AccountError:  # made meanwhile by another sign-in: carry on with it
                pass
        async with self.database.sessions() as session, session.begin():
            row = await _row(session, email)
            await session.execute(
                sql_delete(AccountRoleRow).where(AccountRoleRow.account_id == row.id)
            )
            for grant in wanted:
                session.add(
                    AccountRoleRow(account_id=row.id, role=grant.role.value, service=grant.service)
                )
        return await self._found(normal_email(email))

    async def get(self, account_id: int) -> Account | None:
        async with self.database.sessions() as session:
            row = await session.get(AccountRow, account_id)
            return None if row is None else (await _accounts(session, [row]))[0]

    async def sessions_since(self, account_id: int) -> datetime | None:
        async with self.database.sessions() as session:
            since: datetime | None = await session.scalar(
                select(AccountRow.sessions_since).where(AccountRow.id == account_id)
            )
            return since

    async def end_sessions(self, email: str) -> Account:
        """Sign the person out everywhere (their sessions begun until now end)."""
        return await self._change(email, sessions_since=utcnow())

    async def totp_secret(self, account_id: int) -> str | None:
        async with self.database.sessions() as session:
            secret: str | None = await session.scalar(
                select(AccountRow.totp_secret).where(AccountRow.id == account_id)
            )
            return secret

    async def set_totp(self, email: str, secret: str | None) -> Account:
        """Set up one-time codes with `secret` (None: turn them off)."""
        return await self._change(email, totp_secret=secret, set_totp=True)

    async def record_sign_in(self, account_id: int) -> None:
        async with self.database.sessions() as session, session.begin():
            row = await session.get(AccountRow, account_id)
            if row is not None:
                row.last_sign_in_at = utcnow()

    async def grant(self, email: str, grant: Grant) -> bool:
        """Give a role; False when it was held already (on this or on every service)."""
        check_grant(grant)
        async with self.database.sessions() as session, session.begin():
            row = await _row(session, email)
            held = set(
                await session.scalars(
                    select(AccountRoleRow.service).where(
                        AccountRoleRow.account_id == row.id, AccountRoleRow.role == grant.role
                    )
                )
            )
            if None in held or grant.service in held:
                return False
            if grant.service is None:  # every service now: the limited rows say nothing more
                await _delete_roles(session, row.id, grant.role)
            session.add(
                AccountRoleRow(account_id=row.id, role=grant.role.value, service=grant.service)
            )
            return True

    async def revoke(self, email: str, role: Role, service: str | None = None) -> int:
        """Take a role away on `service`, or wholly when None; how many grants went."""
        async with self.database.sessions() as session, session.begin():
            row = await _row(session, email)
            return await _delete_roles(session, row.id, role, service, exact=service is not None)

    async def verify_password(self, email: str, password: str) -> Account | None:
        """The account when the password is its own and it is enabled, else None.

        An unknown email is checked against a decoy hash, so the answer takes as long
        whether or not someone has that address: timing tells nobody who has an account.
        """
        try:
            address: str | None = normal_email(email)
        except AccountError:
            address = None
        async with self.database.sessions() as session:
            row = None
            if address is not None:
                row = await session.scalar(select(AccountRow).where(AccountRow.email == address))
            stored = row.password_hash if row is not None else await self._decoy_hash()
        matches = await asyncio.to_thread(self._matches, stored, password)
        if row is None or row.disabled or not matches:
            return None
        if self.hasher.check_needs_rehash(stored):  # parameters raised since: upgrade it
            await self._change(row.email, password_hash=await self._hash(password, check=False))
        return await self._found(row.email)

    async def _hash(self, password: str, *, check: bool = True) -> str:
        problem = password_problem(password) if check else None
        if problem:
            raise AccountError(problem)
        return await asyncio.to_thread(self.hasher.hash, password)

    def _matches(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _decoy_hash(self) -> str:
        # Made with this hasher's parameters, so checking it costs what a real one does.
        if self._decoy is None:
            self._decoy = await asyncio.to_thread(self.hasher.hash, "decoy for unknown emails")
        return self._decoy

    async def _change(
        self,
        email: str,
        *,
        disabled: bool | None = None,
        password_hash: str | None = None,
        sessions_since: datetime | None = None,
        totp_secret: str | None = None,
        set_totp: bool = False,
    ) -> Account:
        async with self.database.sessions() as session, session.begin():
            row = await _row(session, email)
            if disabled is not None:
                row.disabled = disabled
            if password_hash is not None:
                row.password_hash = password_hash
            if sessions_since is not None:
                row.sessions_since = sessions_since
            if set_totp:
                row.totp_secret = totp_secret
            return (await _accounts(session, [row]))[0]

    async def _found(self, address: str) -> Account:
        account = await self.get_by_email(address)
        if account is None:
            raise AccountError(f"no account for {address}")
        return account


async def _row(session: AsyncSession, email: str) -> AccountRow:
    address = normal_email(email)
    row = await session.scalar(select(AccountRow).where(AccountRow.email == address))
    if row is None:
        raise AccountError(f"no account for {address}")
    return row


async def _delete_roles(
    session: AsyncSession,
    account_id: int,
    role: Role,
    service: str | None = None,
    *,
    exact: bool = False,
) -> int:
    statement = sql_delete(AccountRoleRow).where(
        AccountRoleRow.account_id == account_id, AccountRoleRow.role == role.value
    )
    if exact:
        statement = statement.where(AccountRoleRow.service == service)
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def _accounts(session: AsyncSession, rows: Iterable[AccountRow]) -> list[Account]:
    """The rows as `Account`s, with their grants (roles in the enum's order)."""
    found = list(rows)
    grants: dict[int, list[Grant]] = {row.id: [] for row in found}
    if found:
        for role_row in await session.scalars(
            select(AccountRoleRow).where(AccountRoleRow.account_id.in_(list(grants)))
        ):
            grants[role_row.account_id].append(Grant(Role(role_row.role), role_row.service))
    order = list(Role)
    return [
        Account(
            id=row.id,
            email=row.email,
            created_at=row.created_at,
            disabled=row.disabled,
            last_sign_in_at=row.last_sign_in_at,
            totp=row.totp_secret is not None,
            grants=tuple(
                sorted(grants[row.id], key=lambda g: (order.index(g.role), g.service or ""))
            ),
        )
        for row in found
    ]
