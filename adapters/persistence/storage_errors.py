"""How a database failure reads to the domain: a busy flow (409), a concurrent change (409), a value PostgreSQL
cannot hold (422), or an outage (503). Anything else is a bug and stays what it is (500)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from domain.errors import ConcurrentModification, FlowBusy, InvalidFlowInput, StorageUnavailable

LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout fired (or NOWAIT found the row locked)
QUERY_CANCELED = "57014"  # statement_timeout fired (or the statement was cancelled)
READ_ONLY_SQL_TRANSACTION = "25006"  # a write on a standby: the node this connection reached is no longer primary
_BUSY = {
    LOCK_NOT_AVAILABLE: "a lock it needed was held past the lock timeout",
    "40001": "a concurrent transaction changed what it read",
    "40P01": "it was chosen to end a deadlock",
}
_OUTAGE_CLASSES = {"08", "28", "53", "57", "58"}  # connection, authorization, resources, operator, system
_CONCURRENT = {"23505", "23P01"}  # unique and exclusion violations: a concurrent writer got there first
DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError, ConnectionError)
"""What the database client raises: a unit of work translates these when they escape it, and nothing else (a
handler's own ``OSError`` or ``TimeoutError`` is not the store's failure)."""


@contextmanager
def translated_errors() -> Iterator[None]:
    """Inside the block, a database failure is raised as the domain error it stands for (the driver's error as its
    cause); other errors pass unchanged."""
    try:
        yield
    except Exception as error:
        translated = storage_error(error)
        if translated is None:
            raise
        raise translated from error


def discards_connection(error: BaseException | None) -> bool:
    """Whether the connection ``error`` came from must be closed rather than pooled again: an outage (lost, shut
    down, timed out, or reached a node that is no longer the primary), so the next checkout connects afresh and a
    multi-host URL finds the primary of now."""
    if isinstance(error, StorageUnavailable):
        return True
    return isinstance(error, DRIVER_ERRORS) and isinstance(storage_error(error), StorageUnavailable)


def sqlstate(error: BaseException) -> str | None:
    return getattr(error, "sqlstate", None)


def storage_error(exc: BaseException | None) -> Exception | None:
    """The domain error a database failure stands for, or None when it is not one."""
    if isinstance(exc, asyncpg.PostgresError):
        return _server_error(exc)
    if isinstance(exc, asyncpg.InterfaceError | asyncpg.exceptions.InternalClientError):
        return StorageUnavailable(exc.__class__.__name__)  # the connection is closed, or broke mid-message
    if isinstance(exc, TimeoutError):  # no connection in time, or a command past command_timeout
        return StorageUnavailable(str(exc) or "the database did not answer in time")
    if isinstance(exc, ConnectionError | OSError):
        return StorageUnavailable(exc.__class__.__name__)
    return None


def _server_error(error: asyncpg.PostgresError) -> Exception | None:
    code = sqlstate(error) or ""
    if code in _CONCURRENT:
        return ConcurrentModification(error.__class__.__name__)
    if code in _BUSY:
        return FlowBusy(_BUSY[code])
    if code == QUERY_CANCELED:
        return StorageUnavailable("a statement ran past the statement timeout")
    if code == READ_ONLY_SQL_TRANSACTION:
        return StorageUnavailable("the database node is read-only, no longer the primary: a failover is under way")
    if code.startswith("22"):  # data exception: a value out of the range its column holds
        return InvalidFlowInput(f"PostgreSQL cannot store a value of the request: {str(error)[:200]}")
    if not code or code[:2] in _OUTAGE_CLASSES:
        return StorageUnavailable(error.__class__.__name__)
    return None
