"""The hot statements, run by asyncpg itself on the unit of work's connection, inside its transaction.

SQLAlchemy's execution path (execution context, cursor adapter, greenlet hand-offs, result wrapping) costs about
100 µs of CPU per statement on top of asyncpg's own 60 µs, and a transition sends six statements (measured in
docs/performance.md). The statements that every create, transition and status read sends are therefore built from
the tables as before and compiled once by SQLAlchemy's own asyncpg dialect, with its bind processors (JSON), and
only their execution skips SQLAlchemy: they run on the very asyncpg connection the unit of work's session holds,
inside its transaction (ADR 0011). Everything else still goes through the session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import Executable

_DIALECT = PGDialect_asyncpg()
_DRIVER = "mfo.driver_connection"
"""The key of ``Session.info`` keeping (the session's transaction, its asyncpg connection)."""


class DriverStatement:
    """A statement compiled once for asyncpg: its SQL (``$1``, ``$2``... placeholders) and how to bind a dict."""

    __slots__ = ("_binds", "sql")

    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = str(compiled)
        self._binds: tuple[tuple[str, Callable[[Any], Any] | None], ...] = tuple(
            (name, compiled.binds[name].type.dialect_impl(_DIALECT).bind_processor(_DIALECT))
            for name in compiled.positiontup or ()
        )

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] if process is None else process(params[name]) for name, process in self._binds]


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection of ``session``'s transaction.

    SQLAlchemy's asyncpg adapter sends ``BEGIN`` (with the tenant's scope, adapters/persistence/tenant_scope.py)
    just before the session's first statement; a statement sent here before it would commit on its own, so when the
    transaction has not begun, the adapter is asked to begin it as it would for its own first statement. The
    connection is kept in the session's ``info`` for the rest of that transaction (the session holds the same
    connection until it commits or rolls back), so the statements after the first skip the look-up.
    """
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_DRIVER)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return kept[1]
    connection = await session.connection()
    adapted = (await connection.get_raw_connection()).dbapi_connection
    if adapted._transaction is None:  # type: ignore[union-attr]
        await _begin(adapted)
    driver: asyncpg.Connection = adapted.driver_connection  # type: ignore[union-attr,assignment]
    session.info[_DRIVER] = (session.sync_session.get_transaction(), driver)
    return driver


async def _begin(adapted: Any) -> None:
    """Begin the adapter's transaction as its own first statement would. A failure is raised as asyncpg's own error,
    like those of the statements run here, not as the stand-in the adapter makes for SQLAlchemy to wrap (which the
    unit of work would not recognise: a lost connection would be a 500, not a 503)."""
    try:
        await adapted._start_transaction()
    except Exception as error:
        if isinstance(error.__cause__, asyncpg.PostgresError | asyncpg.InterfaceError):
            raise error.__cause__ from None
        raise


async def fetch_one(session: AsyncSession, statement: DriverStatement, params: Mapping[str, Any]) -> Any:
    """The one row ``statement`` returns (an ``asyncpg.Record``, read like a mapping), or None."""
    driver = await driver_connection(session)
    return await driver.fetchrow(statement.sql, *statement.arguments(params))


async def execute(session: AsyncSession, statement: DriverStatement, params: Mapping[str, Any]) -> int:
    """Run ``statement``; the number of rows it wrote."""
    driver = await driver_connection(session)
    status = await driver.execute(statement.sql, *statement.arguments(params))
    return int(status.rsplit(" ", 1)[-1])


async def execute_many(session: AsyncSession, statement: DriverStatement, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run ``statement`` once per row, in one round trip."""
    driver = await driver_connection(session)
    if len(rows) == 1:
        await driver.execute(statement.sql, *statement.arguments(rows[0]))
    else:
        await driver.executemany(statement.sql, [statement.arguments(row) for row in rows])
