"""Typed settings, each read once from the environment with a default."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None


def async_database_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` URLs; MFO always talks asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise SystemExit(f"MFO needs a PostgreSQL URL (postgresql://...), not {url.split(':', 1)[0]}://...")


@dataclass(frozen=True)
class DatabaseSettings:
    url: str | None = None
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout_seconds: int = 10
    statement_timeout_ms: int = 30_000
    data_dir: Path = Path(".mfo")

    @classmethod
    def from_env(cls) -> DatabaseSettings:
        url = os.environ.get("MFO_DATABASE_URL") or None
        return cls(
            url=async_database_url(url) if url else None,
            pool_size=_int("MFO_DB_POOL_SIZE", cls.pool_size),
            max_overflow=_int("MFO_DB_MAX_OVERFLOW", cls.max_overflow),
            pool_timeout_seconds=_int("MFO_DB_POOL_TIMEOUT", cls.pool_timeout_seconds),
            statement_timeout_ms=_int("MFO_DB_STATEMENT_TIMEOUT_MS", cls.statement_timeout_ms),
            data_dir=Path(os.environ.get("MFO_DATA_DIR", str(cls.data_dir))),
        )


@dataclass(frozen=True)
class ApiSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1_048_576
    default_page_size: int = 50
    max_page_size: int = 200
    debug: bool = False

    @classmethod
    def from_env(cls) -> ApiSettings:
        return cls(
            host=os.environ.get("MFO_HOST", cls.host),
            port=_int("MFO_PORT", cls.port),
            max_body_bytes=_int("MFO_MAX_BODY_BYTES", cls.max_body_bytes),
            default_page_size=_int("MFO_DEFAULT_PAGE_SIZE", cls.default_page_size),
            max_page_size=_int("MFO_MAX_PAGE_SIZE", cls.max_page_size),
            debug=os.environ.get("MFO_DEBUG", "") == "1",
        )


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    flow_type_group: str = "mfo.flow_types"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(database=DatabaseSettings.from_env(), api=ApiSettings.from_env())

    def with_database_url(self, url: str) -> Settings:
        from dataclasses import replace

        return replace(self, database=replace(self.database, url=async_database_url(url)))
