"""The PostgreSQL error codes MFO answers differently, and how to read one off a driver error."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout fired (or NOWAIT found the row locked)
QUERY_CANCELED = "57014"  # statement_timeout fired (or the statement was cancelled)


def sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)
