"""The PostgreSQL error codes MFO answers differently, and how to read one off a driver error."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout fired (or NOWAIT found the row locked)
QUERY_CANCELED = "57014"  # statement_timeout fired (or the statement was cancelled)


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a PostgreSQL error, whether SQLAlchemy wrapped it (``DBAPIError``) or asyncpg raised it
    directly (the statements of adapters/persistence/driver.py)."""
    return getattr(error.orig if isinstance(error, DBAPIError) else error, "sqlstate", None)
