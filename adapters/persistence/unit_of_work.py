"""AsyncpgUnitOfWork: one connection, one transaction at a time, shared by every port in a request.

The unit of work checks out a pooled connection at its first statement and begins the transaction there, with the
tenant's scope (adapters/persistence/tenant_scope.py), and behind PgBouncer the timeouts, in the same message.
``commit()`` commits and gives the connection back; a later statement begins the next transaction on a connection
checked out again. Leaving without a commit rolls back. Repositories and flow-type adapters receive the unit of
work's ports and never commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import asyncpg

from adapters.persistence.bridge_states import PgBridgeStates
from adapters.persistence.child_records import PgChildRecords
from adapters.persistence.database import Database, discard
from adapters.persistence.event_log import PgFlowEventLog
from adapters.persistence.flow_repository import PgFlowRepository
from adapters.persistence.idempotency_store import PgIdempotencyStore
from adapters.persistence.phase_runs import PgPhaseRuns
from adapters.persistence.statements import Statement, rows_written
from adapters.persistence.storage_errors import (
    DRIVER_ERRORS,
    discards_connection,
    storage_error,
    translated_errors,
)
from adapters.persistence.tenant_scope import SET_TENANT, begin_scoped, tenant_arguments
from domain.errors import StorageUnavailable
from domain.events import Tenant


class TransactionRolledBack(RuntimeError):
    """The transaction had failed before its commit, so PostgreSQL rolled it back: a bug, since every failed
    statement raises."""


class AsyncpgUnitOfWork:
    """An async context manager over the transactions of one request (or one step of a worker)."""

    flows: PgFlowRepository
    events: PgFlowEventLog
    children: PgChildRecords
    bridge_states: PgBridgeStates
    phase_runs: PgPhaseRuns
    idempotency: PgIdempotencyStore

    def __init__(self, database: Database, idempotency_wait_ms: int = 10_000) -> None:
        self._database = database
        self._idempotency_wait_ms = idempotency_wait_ms
        self._open = False
        self._tenant: Tenant | None = None
        self._connection: asyncpg.Connection | None = None
        self._transaction_settings = database.options.transaction_settings()
        self._one_at_a_time = asyncio.Lock()
        """One connection runs one statement at a time: concurrent callers (a handler's ``gather``) take turns."""

    @property
    def database(self) -> Database:
        return self._database

    @property
    def idempotency_wait_ms(self) -> int:
        return self._idempotency_wait_ms

    async def __aenter__(self) -> Self:
        if self._open:
            raise RuntimeError("this unit of work is already open")
        self._open, self._tenant = True, None
        self.flows = PgFlowRepository(self)
        self.events = PgFlowEventLog(self)
        self.children = PgChildRecords(self)
        self.bridge_states = PgBridgeStates(self)
        self.phase_runs = PgPhaseRuns(self)
        self.idempotency = PgIdempotencyStore(self, self._idempotency_wait_ms)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._open, self._tenant = False, None
        if discards_connection(exc):  # lost, or on a node no longer the primary: never pooled again
            await self._discard()
        try:
            await self._end("ROLLBACK")
        except Exception as error:  # the connection may be gone; the original error matters more
            if exc is None:
                translated = storage_error(error)
                if translated is None:
                    raise
                raise translated from error
        translated = storage_error(exc) if isinstance(exc, DRIVER_ERRORS) else None
        if translated is not None:
            raise translated from exc

    async def scope(self, tenant: Tenant) -> None:
        self._check_open()
        self._tenant = tenant
        if self._connection is not None:
            with translated_errors():
                await self._connection.execute(SET_TENANT, *tenant_arguments(tenant))

    async def commit(self) -> None:
        self._check_open()
        try:
            committed = await self._end("COMMIT")
        except Exception as error:  # the connection may have died after PostgreSQL committed: say so
            translated = storage_error(error)
            if isinstance(translated, StorageUnavailable):
                raise StorageUnavailable(translated.reason, outcome_unknown=True) from error
            raise
        if committed:
            self._database.commits += 1

    async def rollback(self) -> None:
        self._check_open()
        await self._end("ROLLBACK")

    # -- the Executor the ports run their statements on ---------------------------------------

    async def connection(self) -> asyncpg.Connection:
        """The connection of the current transaction, begun (checked out and begun at the first statement)."""
        self._check_open()
        if self._connection is None:
            connection = await self._database.acquire()
            try:
                await connection.execute(begin_scoped(self._tenant, self._transaction_settings))
            except BaseException:
                await self._give_back(connection, broken=True)
                raise
            self._connection = connection
        return self._connection

    # Each statement's failure is raised as the domain error it stands for (adapters/persistence/storage_errors.py),
    # so code between the unit of work and the database (a phase handler reading another flow) sees a busy flow or
    # an unavailable store as such, not as a driver's error.

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> asyncpg.Record | None:
        async with self._one_at_a_time:
            with translated_errors():
                return await (await self.connection()).fetchrow(statement.sql, *statement.arguments(params))

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[asyncpg.Record]:
        async with self._one_at_a_time:
            with translated_errors():
                return await (await self.connection()).fetch(statement.sql, *statement.arguments(params))

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> int:
        async with self._one_at_a_time:
            with translated_errors():
                connection = await self.connection()
                return rows_written(await connection.execute(statement.sql, *statement.arguments(params)))

    async def execute_many(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        async with self._one_at_a_time:
            with translated_errors():
                connection = await self.connection()
                if len(rows) == 1:
                    await connection.execute(statement.sql, *statement.arguments(rows[0]))
                elif rows:
                    await connection.executemany(statement.sql, [statement.arguments(row) for row in rows])

    # -- internals ---------------------------------------------------------------------------

    async def _end(self, command: str) -> bool:
        """End the current transaction with ``command`` and give its connection back; False when none was open.

        A ``COMMIT`` that PostgreSQL answers ``ROLLBACK`` (the transaction had failed) raises: nothing was committed.
        """
        connection, self._connection = self._connection, None
        if connection is None:
            return False
        try:
            tag = await connection.execute(command)
        except BaseException:
            await self._give_back(connection, broken=True)
            raise
        await self._give_back(connection)
        if command == "COMMIT" and tag != "COMMIT":
            raise TransactionRolledBack(f"PostgreSQL answered the commit with {tag!r}: nothing was committed")
        return True

    async def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._give_back(connection, broken=True)

    async def _give_back(self, connection: asyncpg.Connection, *, broken: bool = False) -> None:
        if broken:
            discard(connection)  # its state is unknown: the pool opens a new one in its place
        await self._database.release(connection)

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("the unit of work is not open: use it as 'async with uow:'")
