"""The database's variables, and the idempotency keys kept in it."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from entrypoints.environment.values import (
    PostgreSQLURL,
    Secret,
    shown,
    with_password,
)
from entrypoints.settings import (
    DatabaseSettings,
    IdempotencySettings,
    async_database_url,
)
from entrypoints.settings_reading import Variables


class DatabaseVariables(Variables):
    builds: ClassVar[type] = DatabaseSettings

    database_url: PostgreSQLURL = Field(
        None,
        description="PostgreSQL URL (`postgresql://user:pass@host/db`), or every node of a replicated one "
        "(`postgresql://user:pass@h1:5432,h2:5432/db?target_session_attrs=read-write`: "
        "[docs/operations.md](docs/operations.md)). Unset: `make run` starts a local cluster kept in `.mfo/pgdata`",
        json_schema_extra=shown("(embedded)"),
    )
    database_password: Secret = Field(
        None,
        description="the password of `MFO_DATABASE_URL`'s user (it replaces one the URL holds), so the URL itself "
        "need not be secret",
    )
    data_dir: Path = Field(DatabaseSettings.data_dir, description="where the embedded cluster lives")
    db_pool_size: int = Field(
        DatabaseSettings.pool_size, ge=1, description="the connection pool: connections kept open while idle"
    )
    db_max_overflow: int = Field(
        DatabaseSettings.max_overflow,
        ge=0,
        description="how many more connections than `MFO_DB_POOL_SIZE` a burst may open (closed again when given back)",
    )
    db_statement_timeout_ms: int = Field(
        DatabaseSettings.statement_timeout_ms,
        ge=0,
        description="PostgreSQL `statement_timeout` for every connection (behind PgBouncer: every unit of work's "
        "transaction) (past it: 503)",
    )
    db_lock_timeout_ms: int = Field(
        DatabaseSettings.lock_timeout_ms,
        ge=0,
        description="PostgreSQL `lock_timeout` for every connection, or behind PgBouncer every unit of work's "
        "transaction (past it: 409 `flow-busy`); keep it below the statement timeout",
    )
    db_connect_timeout: int = Field(
        DatabaseSettings.connect_timeout_seconds, ge=1, description="seconds to open a connection (past it: 503)"
    )
    db_pool_timeout: int = Field(
        DatabaseSettings.pool_timeout_seconds,
        ge=1,
        description="seconds to wait for a free pooled connection (past it: 503)",
    )
    db_command_timeout: int = Field(
        DatabaseSettings.command_timeout_seconds,
        ge=1,
        description="seconds MFO waits for any one answer from PostgreSQL, for a server that stops answering (past "
        "it: 503); keep it above the statement timeout",
    )
    app_db_role: str = Field(
        DatabaseSettings.app_role,
        min_length=1,
        description="the database role requests run as (row-level security applies to it); `mfo migrate` creates it",
    )
    app_db_password: Secret = Field(
        None, description="the password `mfo migrate` gives that role", json_schema_extra=shown("the owner's")
    )
    app_database_url: PostgreSQLURL = Field(
        None,
        description="the application's own database URL (one host or several, as above); unset: "
        "`MFO_DATABASE_URL` with the role and password above, every host kept",
        json_schema_extra=shown("derived"),
    )
    db_pgbouncer: bool = Field(
        DatabaseSettings.pgbouncer,
        description="`true`: the URLs lead to PgBouncer in transaction pooling mode (no statement cache, the timeouts "
        "set in each transaction; `mfo migrate` still connects to PostgreSQL itself): "
        "[docs/operations.md](docs/operations.md#many-replicas-through-pgbouncer)",
    )
    db_listen_url: PostgreSQLURL = Field(
        None,
        description="behind PgBouncer, where runners `LISTEN` for due work: PostgreSQL itself, as the owner; unset, "
        "they poll every `MFO_WORKER_POLL_SECONDS` (without PgBouncer they listen on `MFO_DATABASE_URL`)",
    )

    def settings(self) -> DatabaseSettings:
        url = self.database_url
        if url is not None and self.database_password is not None:
            url = with_password(url, self.database_password)
        return DatabaseSettings(
            url=async_database_url(url) if url else None,
            pool_size=self.db_pool_size,
            max_overflow=self.db_max_overflow,
            pool_timeout_seconds=self.db_pool_timeout,
            statement_timeout_ms=self.db_statement_timeout_ms,
            lock_timeout_ms=self.db_lock_timeout_ms,
            connect_timeout_seconds=self.db_connect_timeout,
            command_timeout_seconds=self.db_command_timeout,
            data_dir=self.data_dir,
            app_url=async_database_url(self.app_database_url) if self.app_database_url else None,
            app_role=self.app_db_role,
            app_password=self.app_db_password,
            pgbouncer=self.db_pgbouncer,
            listen_url=async_database_url(self.db_listen_url) if self.db_listen_url else None,
        )


class IdempotencyVariables(Variables):
    builds: ClassVar[type] = IdempotencySettings

    idempotency_ttl_seconds: int = Field(
        IdempotencySettings.ttl_seconds, ge=1, description="how long an `Idempotency-Key`'s answer is kept for retries"
    )
    idempotency_wait_ms: int = Field(
        IdempotencySettings.wait_ms,
        ge=0,
        description="how long a retry waits for the first request with its key (then 409); must be shorter than "
        "`MFO_DB_STATEMENT_TIMEOUT_MS` (start-up refuses otherwise)",
    )
    idempotency_purge_interval_seconds: int = Field(
        IdempotencySettings.purge_interval_seconds,
        ge=0,
        description="how often the server deletes expired keys (`0`: never; `mfo purge-keys` does it once)",
    )

    def settings(self) -> IdempotencySettings:
        return IdempotencySettings(
            ttl_seconds=self.idempotency_ttl_seconds,
            wait_ms=self.idempotency_wait_ms,
            purge_interval_seconds=self.idempotency_purge_interval_seconds,
        )
