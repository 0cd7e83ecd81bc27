"""SqlAlchemyUnitOfWork: one session, one transaction, shared by everything in a request."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.event_log import SqlAlchemyFlowEventLog
from adapters.persistence.flow_repository import SqlAlchemyFlowRepository
from adapters.persistence.idempotency_store import SqlAlchemyIdempotencyStore
from adapters.persistence.sqlstates import LOCK_NOT_AVAILABLE, QUERY_CANCELED, sqlstate
from adapters.persistence.tenant_scope import SCOPED_TENANT, SET_TENANT, tenant_parameters
from adapters.work_queue.outbox import PgQueuerWorkQueue
from domain.errors import ConcurrentModification, FlowBusy, StorageUnavailable
from domain.events import Tenant


class SqlAlchemyUnitOfWork:
    """An async context manager over one ``AsyncSession``.

    Entering opens the session; the first statement checks out one pooled connection
    and begins the transaction. ``commit()`` commits it; leaving without a commit rolls
    back. Repositories and flow-type adapters receive ``session`` and never commit.

    ``scope(tenant)`` sets the tenant the database's row-level security lets this unit of work see, for the
    current transaction and every later one of its session (adapters/persistence/tenant_scope.py).
    """

    flows: SqlAlchemyFlowRepository
    events: SqlAlchemyFlowEventLog
    work_queue: PgQueuerWorkQueue
    idempotency: SqlAlchemyIdempotencyStore

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], idempotency_wait_ms: int = 10_000) -> None:
        self._session_factory = session_factory
        self._idempotency_wait_ms = idempotency_wait_ms
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it as 'async with uow:'")
        return self._session

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open")
        self._session = self._session_factory()
        self.flows = SqlAlchemyFlowRepository(self._session)
        self.events = SqlAlchemyFlowEventLog(self._session)
        self.work_queue = PgQueuerWorkQueue(self._session)
        self.idempotency = SqlAlchemyIdempotencyStore(self._session, self._idempotency_wait_ms)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self.session, None
        try:
            await session.rollback()
            await session.close()
        except Exception:  # the connection may be gone; the original error matters more
            await session.invalidate()
            if exc is None:
                raise
        translated = storage_error(exc)
        if translated is not None:
            raise translated from exc

    async def scope(self, tenant: Tenant) -> None:
        self.session.info[SCOPED_TENANT] = tenant
        if self.session.in_transaction():
            await self.session.execute(SET_TENANT, tenant_parameters(tenant))

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except Exception as error:  # the connection may have died after PostgreSQL committed: say so
            translated = storage_error(error)
            if isinstance(translated, StorageUnavailable):
                raise StorageUnavailable(translated.reason, outcome_unknown=True) from error
            raise

    async def rollback(self) -> None:
        await self.session.rollback()


def storage_error(exc: BaseException | None) -> Exception | None:
    """The domain error a database failure stands for, or None when it is not one.

    A failure comes wrapped by SQLAlchemy (``DBAPIError``, the driver's error in ``orig``) or, from the statements
    asyncpg runs directly (adapters/persistence/driver.py), as asyncpg's own error: both are read the same way.
    """
    if isinstance(exc, PoolTimeout):
        return StorageUnavailable("no pooled connection was free in time")
    if isinstance(exc, DBAPIError):
        driver_error: BaseException = exc.orig or exc
    elif isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
        driver_error = exc
    elif isinstance(exc, (ConnectionError, OSError, TimeoutError)):
        return StorageUnavailable(exc.__class__.__name__)
    else:
        return None
    if isinstance(exc, IntegrityError) or isinstance(driver_error, asyncpg.IntegrityConstraintViolationError):
        return ConcurrentModification(driver_error.__class__.__name__)
    code = sqlstate(exc)
    if code == LOCK_NOT_AVAILABLE:
        return FlowBusy("a lock it needed was held past the lock timeout")
    if code == QUERY_CANCELED:
        return StorageUnavailable("a statement ran past the statement timeout")
    return StorageUnavailable(driver_error.__class__.__name__)
