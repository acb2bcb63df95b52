"""Service drafts in the database: what authors write in the studio, seen by every
process and pod alike.

One draft per service: its definition as YAML (the text authors and `gateway check` read,
so a diagnostic's line is the line they wrote), its conversation tests, and a revision
that every change must name. Two authors saving at once never overwrite each other
silently: the second save names a revision that is no longer the draft's, and is refused
with the draft as it now is (`DraftConflictError`), so they can see what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from state.access import MAX_EMAIL_LENGTH
from state.database import Base, Database
from state.submissions import utcnow

ReviewState = Literal["editing", "submitted", "published"]
STATES: tuple[ReviewState, ...] = get_args(ReviewState)


class DraftRow(Base):
    __tablename__ = "service_drafts"

    service: Mapped[str] = mapped_column(String(80), primary_key=True)
    source: Mapped[str] = mapped_column(Text)  # the definition, YAML
    tests: Mapped[str | None] = mapped_column(Text, nullable=True)  # its tests, YAML
    revision: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))  # a ReviewState
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    updated_by: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))
    submitted_by: Mapped[str | None] = mapped_column(String(MAX_EMAIL_LENGTH), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)  # the publisher's
    published: Mapped[int | None] = mapped_column(Integer, nullable=True)  # as version


@dataclass(frozen=True, slots=True)
class Draft:
    service: str
    source: str
    tests: str | None
    revision: int
    state: ReviewState
    updated_at: datetime
    updated_by: str
    submitted_by: str | None
    comment: str | None  # the publisher's, when they sent it back or published it
    published: int | None  # the version it was published as, while unchanged since

    @classmethod
    def of(cls, row: DraftRow) -> Draft:
        return cls(
            service=row.service,
            source=row.source,
            tests=row.tests,
            revision=row.revision,
            state=next((s for s in STATES if s == row.state), "editing"),
            updated_at=row.updated_at,
            updated_by=row.updated_by,
            submitted_by=row.submitted_by,
            comment=row.comment,
            published=row.published,
        )


class DraftConflictError(Exception):
    """The draft changed since the revision the change was made on (`current`: as it is
    now; None: there is none, or one was made meanwhile)."""

    def __init__(self, current: Draft | None) -> None:
        super().__init__("the draft changed meanwhile")
        self.current = current


# What a change of the text does: what was reviewed or published is no longer the draft.
_EDITING: dict[str, str | None] = {"state": "editing", "submitted_by": None, "published": None}


class DraftStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def get(self, service: str) -> Draft | None:
        async with self.database.sessions() as session:
            row = await session.get(DraftRow, service)
            return None if row is None else Draft.of(row)

    async def list(self) -> list[Draft]:
        rows = await self.database.rows(select(DraftRow).order_by(DraftRow.service))
        return [Draft.of(row) for row in rows]

    async def save(self, service: str, source: str, *, revision: int | None, by: str) -> Draft:
        """Write the definition: a new draft when `revision` is None and there is none,
        else over `revision` (DraftConflictError when it is not the draft's). Saving
        takes a submitted draft back to editing: what was reviewed is no longer it."""
        return await self._change(service, revision, by, source=source, **_EDITING)

    async def save_tests(self, service: str, tests: str, *, revision: int, by: str) -> Draft:
        return await self._change(service, revision, by, tests=tests, **_EDITING)

    async def submit(self, service: str, *, revision: int, by: str) -> Draft:
        """Send the draft to a publisher, as it is at `revision`."""
        return await self._change(
            service, revision, by, state="submitted", submitted_by=by, comment=None
        )

    async def send_back(self, service: str, *, revision: int, by: str, comment: str) -> Draft:
        """The publisher returns the draft to its authors, saying why."""
        return await self._change(
            service, revision, by, state="editing", submitted_by=None, comment=comment
        )

    async def _change(
        self, service: str, revision: int | None, by: str, **values: str | int | None
    ) -> Draft:
        now = utcnow()
        try:
            async with self.database.sessions() as session, session.begin():
                if revision is None:
                    if await session.get(DraftRow, service) is None:
                        row = DraftRow(
                            service=service,
                            source=str(values.get("source") or ""),
                            tests=None,
                            revision=1,
                            state="editing",
                            updated_at=now,
                            updated_by=by,
                            submitted_by=None,
                        )
                        session.add(row)
                        await session.flush()
                        return Draft.of(row)
                else:
                    changed = await session.execute(
                        update(DraftRow)
                        .where(DraftRow.service == service, DraftRow.revision == revision)
                        .values(revision=revision + 1, updated_at=now, updated_by=by, **values)
                        .execution_options(synchronize_session=False)
                    )
                    updated = bool(changed.rowcount)  # type: ignore[attr-defined]
        except IntegrityError:  # made by another author at this very moment
            pass
        else:
            if revision is not None and updated:
                found = await self.get(service)
                if found is not None:
                    return found
        # Read after the transaction: the draft as it is now, for the author to compare.
        raise DraftConflictError(await self.get(service))
