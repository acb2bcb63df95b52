"""Opt-outs, kept durably: a number that sent STOP is sent nothing until it sends START.

Carriers and the law hold a sender to this, and the session store's Redis may be
embedded or flushed, so the choice is written here too. The conversation service reads
its copy in Redis on every message (no extra round trip); whatever is sent later, outside
a conversation (documents, decisions), is checked here first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from state.database import Base, Database
from state.submissions import utcnow


class OptOutRow(Base):
    __tablename__ = "opt_outs"

    address: Mapped[str] = mapped_column(String(80), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(20))  # where the choice was made
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))


class ConsentStore:
    """Who opted out, in the database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._insert = (
            postgresql.insert if database.engine.dialect.name == "postgresql" else sqlite.insert
        )

    async def record(self, address: str, *, opted_out: bool, channel: str) -> None:
        values = {
            "address": address,
            "opted_out": opted_out,
            "channel": channel,
            "updated_at": utcnow(),
        }
        statement = self._insert(OptOutRow).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["address"],
            set_={k: v for k, v in values.items() if k != "address"},
        )
        async with self.database.engine.begin() as connection:
            await connection.execute(statement)

    async def opted_out(self, address: str) -> bool:
        async with self.database.engine.connect() as connection:
            found = await connection.scalar(
                select(OptOutRow.opted_out).where(OptOutRow.address == address)
            )
        return bool(found)
