"""The seam over SQLAlchemy's asyncpg dialect: hot statements straight through asyncpg.

Domain code calls `driver_of` and `DirectStatement`, never what they lean on. A
submission's statement through SQLAlchemy Core spent about as much CPU in SQLAlchemy's
execution path (parameters, the execution context, the result's rows) as in asyncpg and
the round trip together: sent straight through asyncpg, a USSD hop costs 4% fewer
instructions on average (2.238 M to 2.148 M, `bench.hop_cpu --callgrind`), the
submitting hop 0.8 M fewer. The connection is still checked out from the engine's pool
(with its pre-ping), so pooling, autocommit and the pool's reset stay SQLAlchemy's.

What it leans on, checked against the installed versions by
tests/state/test_postgres_compat.py; `sqlalchemy>=2.0.30,<2.2` and `asyncpg>=0.29,<0.33`
in pyproject.toml keep an unchecked release out:

- a textual statement compiled for the asyncpg dialect renders `$1, $2, ...` and names
  its parameters in that order in `positiontup`, a name used twice taking one number;
- each parameter's type (`compiled.binds`) gives the bind processor SQLAlchemy would
  apply (`JSON`: serialised to text, `None` as JSON `null`);
- the dialect's connections decode `json` to Python and take it as text, the codec it
  sets on connect;
- `AsyncConnection.get_raw_connection().driver_connection` is the asyncpg connection,
  outside any transaction on an AUTOCOMMIT connection.

asyncpg's errors are raised as SQLAlchemy's (`IntegrityError`, `DBAPIError`), so callers
catch what they caught before; a connection that broke (terminated, shut down, closed, its
protocol out of step) is invalidated, never pooled again.
When the contract test fails after an upgrade, read what changed, adapt this module, and
compare `python -m bench.hop_cpu --callgrind` before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import TextClause

# The SQL, its parameters' names in order, and the bind processors of those with one.
Compiled = tuple[str, tuple[str, ...], dict[str, Callable[[Any], Any]]]


async def driver_of(connection: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under a checked-out SQLAlchemy connection."""
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None  # a checked-out connection always has its driver's
    return driver


class DirectStatement:
    """A textual statement compiled once for asyncpg (on first use, for the dialect of
    the connection it runs on), run on a connection of a SQLAlchemy engine."""

    def __init__(self, statement: TextClause) -> None:
        self.statement = statement
        self._dialect: Dialect | None = None
        self._compiled: Compiled = ("", (), {})

    def compiled(self, dialect: Dialect) -> Compiled:
        """The SQL with `$n` placeholders, the parameters' names in their order, and the
        bind processors of those that have one."""
        if self._dialect is not dialect:
            compiled = self.statement.compile(dialect=dialect)
            used: dict[str, Callable[[Any], Any]] = {}
            for name, bind in compiled.binds.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    used[name] = processor
            self._compiled = (compiled.string, tuple(compiled.positiontup or ()), used)
            self._dialect = dialect
        return self._compiled

    async def fetchrow(
        self, connection: AsyncConnection, params: Mapping[str, Any]
    ) -> asyncpg.Record | None:
        """The statement's first row (None: no row), with `params` by name."""
        sql, names, processors = self.compiled(connection.dialect)
        args = [
            processors[name](params[name]) if name in processors else params[name] for name in names
        ]
        driver = await driver_of(connection)
        try:
            return await driver.fetchrow(sql, *args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(sql, None, exc) from exc
        except Exception as exc:  # asyncpg's, the socket's: all said as SQLAlchemy says them
            # The server refused the statement and the connection serves on; anything else
            # (a backend terminated or shut down, a closed socket, a protocol out of step)
            # leaves a connection nobody should get from the pool again.
            refused = (
                isinstance(exc, asyncpg.PostgresError)
                and not isinstance(exc, asyncpg.exceptions.OperatorInterventionError)
                and not driver.is_closed()
            )
            if not refused:
                await connection.invalidate(exc)
            raise DBAPIError(sql, None, exc, connection_invalidated=not refused) from exc
