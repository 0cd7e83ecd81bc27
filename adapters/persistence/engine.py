"""The engines MFO's adapters run on: PostgreSQL through asyncpg, every wait bounded, no ping per checkout, the
tenant's scope sent with ``BEGIN``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.persistence.tenant_scope import ScopedBeginConnection, forget_unbegun_scope


def create_pg_engine(url: str, *, connect_args: dict[str, Any], **pool: Any) -> AsyncEngine:
    """An async engine whose pool never lends a connection PostgreSQL has closed, without a round trip to check.

    SQLAlchemy's ``pool_pre_ping`` sends a ping in a transaction of its own before every checkout (for asyncpg:
    ``BEGIN``, ``;``, ``ROLLBACK``, three round trips, a third of those of a status read). asyncpg already knows
    when the server has closed a connection (after a restart, a crash or ``pg_terminate_backend``): its event loop
    reads the end of the stream as it comes. So a checkout asks the driver, and a closed connection is replaced
    before anyone uses it (docs/performance.md).

    Its connections are :class:`ScopedBeginConnection`: a scoped unit of work's tenant goes out with the ``BEGIN``
    of each of its transactions (adapters/persistence/tenant_scope.py).
    """
    engine = create_async_engine(url, connect_args={**connect_args, "connection_class": ScopedBeginConnection}, **pool)
    event.listen(engine.sync_engine.pool, "checkout", refuse_closed_connection)
    event.listen(engine.sync_engine.pool, "checkin", forget_unbegun_scope)
    return engine


def refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool ``checkout`` listener: a connection the server closed makes the pool open a new one instead."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("PostgreSQL closed this pooled connection")
