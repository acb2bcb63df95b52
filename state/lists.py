"""Shared option lists written in the studio (the districts, the business activities):
kept in the database beside the services folder's `lists/`, so every process checks
drafts against the same lists. A list of the same name here is the one authors see.

A published version carries its lists filled in, so changing a list changes no running
service: it reaches a service at its next publication. Like a draft, a list changes only
over the revision it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from state.access import MAX_EMAIL_LENGTH
from state.database import Base, Database
from state.submissions import utcnow


class ListRow(Base):
    __tablename__ = "shared_lists"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    source: Mapped[str] = mapped_column(Text)  # YAML, as `lists/<name>.yaml` holds it
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    updated_by: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))


@dataclass(frozen=True, slots=True)
class ListText:
    name: str
    source: str
    revision: int
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, row: ListRow) -> ListText:
        return cls(row.name, row.source, row.revision, row.updated_at, row.updated_by)


class ListConflictError(Exception):
    """The list changed since the revision named (`current`: as it is now)."""

    def __init__(self, current: ListText | None) -> None:
        super().__init__("the list changed meanwhile")
        self.current = current


class ListStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def all(self) -> list[ListText]:
        rows = await self.database.rows(select(ListRow).order_by(ListRow.name))
        return [ListText.of(row) for row in rows]

    async def get(self, name: str) -> ListText | None:
        async with self.database.sessions() as session:
            row = await session.get(ListRow, name)
            return None if row is None else ListText.of(row)

    async def save(self, name: str, source: str, *, revision: int | None, by: str) -> ListText:
        """Write the list: a new one when `revision` is None and there is none here, else
        over `revision` (ListConflictError when it is not the list's)."""
        now = utcnow()
        try:
            async with self.database.sessions() as session, session.begin():
                if revision is None:
                    row = ListRow(
                        name=name, source=source, revision=1, updated_at=now, updated_by=by
                    )
                    session.add(row)
                    await session.flush()
                    return ListText.of(row)
                changed = await session.execute(
                    update(ListRow)
                    .where(ListRow.name == name, ListRow.revision == revision)
                    .values(source=source, revision=revision + 1, updated_at=now, updated_by=by)
                    .execution_options(synchronize_session=False)
                )
                updated = bool(changed.rowcount)  # type: ignore[attr-defined]
        except IntegrityError:  # made by another author at this very moment
            updated = False
        found = await self.get(name)
        if updated and found is not None:
            return found
        raise ListConflictError(found)
