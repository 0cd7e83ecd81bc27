"""The kinds of value MFO's variables hold, beyond pydantic's own: seconds, instants, URLs, secrets, log levels."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import AfterValidator, BeforeValidator

from entrypoints.settings_reading import SECRET


def more_than_zero_seconds(value: float) -> float:
    if value <= 0:
        raise ValueError("must be more than 0 seconds")
    return value


def lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def parse_instant(value: Any) -> Any:
    """An ISO 8601 date (midnight UTC) or date and time (UTC unless it names an offset)."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be an ISO 8601 date such as 2027-06-30") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def must_be_postgresql_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        raise ValueError("must be a PostgreSQL URL (postgresql://user:password@host/database)")
    return value


def must_be_http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` as its user's password (replacing one it holds)."""
    parts = urlsplit(url)
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def must_be_log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError("must be a logging level: DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


Seconds = Annotated[float, AfterValidator(more_than_zero_seconds)]
Lowered = BeforeValidator(lower)
Instant = Annotated[datetime, BeforeValidator(parse_instant)]
PostgreSQLURL = Annotated[str | None, SECRET, AfterValidator(must_be_postgresql_url)]
Secret = Annotated[str | None, SECRET]


def shown(default: str) -> dict[str, str]:
    """How the README shows a default that is not a plain value."""
    return {"shown_default": default}
