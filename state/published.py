"""Published service versions in the database: every version ever published, from the
studio, from `gateway import`, or from the services folder, and which one each service
runs (its head), so every process and pod sees the same.

A version keeps three texts: the definition as its author wrote it (YAML: what
`gateway export` writes back byte for byte), its conversation tests, and the checked
definition as JSON with the shared lists filled in (what runs: the same content in every
process, whatever its folder's lists say now).

Which source governs a service is the origin of the version its head names: `folder`
(the services folder's file, published at a start or reload) or any other
(`studio`, `import`, `rollback`): the database's. Numbers only go up, whoever publishes:
a rollback publishes the old content as a new number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import DateTime, Integer, String, Text, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from state.access import MAX_EMAIL_LENGTH
from state.database import Base, Database
from state.studio import DraftConflictError, DraftRow
from state.submissions import utcnow

Origin = Literal["folder", "studio", "import", "rollback"]
ORIGINS: tuple[Origin, ...] = get_args(Origin)


class VersionRow(Base):
    __tablename__ = "service_versions"

    service: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    tests: Mapped[str | None] = mapped_column(Text, nullable=True)
    definition: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    published_by: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)


class HeadRow(Base):
    __tablename__ = "service_heads"

    service: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: withdrawn
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))


@dataclass(frozen=True, slots=True)
class PublishedVersion:
    service: str
    version: int
    source: str  # YAML, as written
    tests: str | None  # YAML
    definition: str  # JSON, checked, shared lists filled in
    origin: Origin
    published_at: datetime
    published_by: str
    comment: str | None

    @property
    def governed_here(self) -> bool:
        """Run from the database, not from the services folder's file."""
        return self.origin != "folder"

    @classmethod
    def of(cls, row: VersionRow) -> PublishedVersion:
        origin: Origin = next((o for o in ORIGINS if o == row.origin), "import")
        return cls(
            row.service,
            row.version,
            row.source,
            row.tests,
            row.definition,
            origin,
            row.published_at,
            row.published_by,
            row.comment,
        )


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A version to publish."""

    service: str
    version: int
    source: str
    tests: str | None
    definition: str
    origin: Origin
    by: str
    comment: str | None = None


class VersionTakenError(Exception):
    """That number was published meanwhile (by another publisher or process)."""


class ServiceVersions:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def live(self) -> list[PublishedVersion]:
        """The version each service runs (none for a withdrawn one), by service."""
        rows = await self.database.rows(
            select(VersionRow)
            .join(
                HeadRow,
                (HeadRow.service == VersionRow.service) & (HeadRow.version == VersionRow.version),
            )
            .order_by(VersionRow.service)
        )
        return [PublishedVersion.of(row) for row in rows]

    async def governed(self) -> list[PublishedVersion]:
        """The live versions the database governs (see the module's docstring)."""
        return [v for v in await self.live() if v.governed_here]

    async def history(self, service: str) -> list[PublishedVersion]:
        """Every version of `service`, newest first."""
        rows = await self.database.rows(
            select(VersionRow)
            .where(VersionRow.service == service)
            .order_by(VersionRow.version.desc())
        )
        return [PublishedVersion.of(row) for row in rows]

    async def get(self, service: str, version: int) -> PublishedVersion | None:
        async with self.database.sessions() as session:
            row = await session.get(VersionRow, (service, version))
            return None if row is None else PublishedVersion.of(row)

    async def head(self, service: str) -> int | None:
        async with self.database.sessions() as session:
            row = await session.get(HeadRow, service)
            return None if row is None else row.version

    async def highest(self, service: str) -> int:
        """The highest number `service` was ever published under here (0: never)."""
        async with self.database.sessions() as session:
            found = await session.scalar(
                select(func.max(VersionRow.version)).where(VersionRow.service == service)
            )
            return int(found or 0)

    async def publish(
        self, new: NewVersion, *, only_raise: bool = False, draft_revision: int | None = None
    ) -> PublishedVersion:
        """Record `new` and make it what its service runs (with `only_raise`, unless it
        runs a higher number already). VersionTakenError when the number exists.

        With `draft_revision`, the service's draft, as it was at that revision, is marked
        published as `new` in the same transaction (its text becomes `new.source`, where
        the next change starts): DraftConflictError, and nothing recorded, when the draft
        changed meanwhile (or another publisher went first)."""
        now = utcnow()
        row = VersionRow(
            service=new.service,
            version=new.version,
            source=new.source,
            tests=new.tests,
            definition=new.definition,
            origin=new.origin,
            published_at=now,
            published_by=new.by,
            comment=new.comment,
        )
        try:
            async with self.database.sessions() as session, session.begin():
                if draft_revision is not None:
                    await _mark_published(session, new, draft_revision, now)
                session.add(row)
                await session.flush()
                await _move_head(session, new.service, new.version, now, only_raise=only_raise)
        except IntegrityError as exc:
            raise VersionTakenError(f"{new.service} version {new.version} exists") from exc
        return PublishedVersion.of(row)

    async def record(self, new: NewVersion) -> bool:
        """Record a version published elsewhere (the folder's, at a start or reload) unless
        it is recorded already, and make it the head unless the head is as high: several
        processes record the same versions at once. Whether it was new."""
        if await self.get(new.service, new.version) is not None:
            await self._raise_head(new.service, new.version)
            return False
        try:
            await self.publish(new, only_raise=True)
        except VersionTakenError:  # another process recorded it this very moment
            return False
        return True

    async def withdraw(self, service: str, version: int) -> None:
        """The folder's service is gone from it: it runs no version. Only while it runs
        `version` of the folder's: a version the database governs, or one published
        meanwhile, is not the folder's to withdraw."""
        async with self.database.sessions() as session, session.begin():
            head = await session.get(HeadRow, service, with_for_update=True)
            if head is None or head.version != version:
                return
            row = await session.get(VersionRow, (service, version))
            if row is not None and row.origin == "folder":
                head.version = None
                head.changed_at = utcnow()

    async def _raise_head(self, service: str, version: int) -> None:
        async with self.database.sessions() as session, session.begin():
            await _move_head(session, service, version, utcnow(), only_raise=True)


async def _move_head(
    session: AsyncSession, service: str, version: int, now: datetime, *, only_raise: bool
) -> None:
    """Make `service` run `version` (with `only_raise`, unless it runs a higher one); the
    head's row is locked, so concurrent publications and recordings take turns."""
    head = await session.get(HeadRow, service, with_for_update=True)
    if head is None:
        session.add(HeadRow(service=service, version=version, changed_at=now))
    elif not only_raise or head.version is None or head.version < version:
        head.version = version
        head.changed_at = now


async def _mark_published(
    session: AsyncSession, new: NewVersion, revision: int, now: datetime
) -> None:
    changed = await session.execute(
        update(DraftRow)
        .where(DraftRow.service == new.service, DraftRow.revision == revision)
        .values(
            revision=revision + 1,
            source=new.source,
            state="published",
            published=new.version,
            comment=new.comment,
            updated_at=now,
            updated_by=new.by,
        )
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        raise DraftConflictError(None)
