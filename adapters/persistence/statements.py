"""Statements compiled once, from the tables, for asyncpg: a request binds parameters, never builds SQL.

SQLAlchemy Core builds each statement and its asyncpg dialect compiles it (``$1``, ``$2``... placeholders) when the
module defining it is imported; asyncpg runs it (ADR 0013). JSON values are encoded by the pool's codecs
(adapters/persistence/database.py), so parameters are bound as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID

import asyncpg
from sqlalchemy import ColumnElement, Table, and_, bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.sql.expression import Executable

from domain.events import Tenant

_DIALECT = PGDialect_asyncpg()
KEY_COLUMNS = ("client_account_id", "engagement_id", "flow_id")


class Statement:
    """A statement compiled for asyncpg: its SQL, the order of its named parameters, and the values of those the
    statement itself fixed (a literal such as ``attempts=1``)."""

    __slots__ = ("_fixed", "names", "sql")

    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = str(compiled)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._fixed = {name: compiled.binds[name].value for name in self.names if not compiled.binds[name].required}

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        fixed = self._fixed
        return [params[name] if name in params or name not in fixed else fixed[name] for name in self.names]


class Executor(Protocol):
    """Runs statements in one transaction: what the unit of work gives each of its ports."""

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> asyncpg.Record | None: ...

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[asyncpg.Record]: ...

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> int:
        """Run the statement; the number of rows it wrote."""
        ...

    async def execute_many(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None: ...

    async def connection(self) -> asyncpg.Connection:
        """The transaction's connection, its transaction begun (for a library's own statements)."""
        ...


def by_key(table: Any) -> ColumnElement[bool]:
    """One flow's rows in ``table``: the tenant and the flow id, as bound parameters ``c``, ``e`` and ``f``."""
    return and_(
        table.c.client_account_id == bindparam("c"),
        table.c.engagement_id == bindparam("e"),
        table.c.flow_id == bindparam("f"),
    )


def key_params(tenant: Tenant, flow_id: UUID) -> dict[str, UUID]:
    return {"c": tenant.client_account_id, "e": tenant.engagement_id, "f": flow_id}


@functools.cache
def select_by_key(table: Table) -> Statement:
    return Statement(select(table).where(by_key(table)))


@functools.cache
def upsert_by_key(table: Table) -> Statement:
    """INSERT a row, or UPDATE every other column of the row with the same tenant and flow id."""
    statement = insert(table)
    return Statement(
        statement.on_conflict_do_update(
            index_elements=list(KEY_COLUMNS),
            set_={c.name: statement.excluded[c.name] for c in table.c if c.name not in KEY_COLUMNS},
        )
    )


def rows_written(status: str) -> int:
    """The row count of a command tag such as ``UPDATE 1`` or ``INSERT 0 1``."""
    return int(status.rsplit(" ", 1)[-1])
