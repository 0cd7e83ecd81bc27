"""The engines MFO's adapters run on: PostgreSQL through asyncpg, every wait bounded, no ping per checkout."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_pg_engine(url: str, *, connect_args: dict[str, Any], **pool: Any) -> AsyncEngine:
    """An async engine whose pool never lends a connection PostgreSQL has closed, without a round trip to check.

    SQLAlchemy's ``pool_pre_ping`` sends a ping in a transaction of its own before every checkout (for asyncpg:
    ``BEGIN``, ``;``, ``ROLLBACK``, three round trips, a third of those of a status read). asyncpg already knows
    when the server has closed a connection (after a restart, a crash or ``pg_terminate_backend``): its event loop
    reads the end of the stream as it comes. So a checkout asks the driver, and a closed connection is replaced
    before anyone uses it (docs/performance.md).
    """
    engine = create_async_engine(url, connect_args=connect_args, **pool)
    event.listen(engine.sync_engine.pool, "checkout", refuse_closed_connection)
    return engine


def refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool ``checkout`` listener: a connection the server closed makes the pool open a new one instead."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("PostgreSQL closed this pooled connection")
