"""A database URL naming several hosts (a primary and its standbys, docs/operations.md): every spelling libpq,
asyncpg and SQLAlchemy use is read, the pool and the migrations connect to whichever host answers and accepts
writes, and a connection whose node stopped accepting writes is discarded, not given back."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.persistence.database import Database, PoolOptions, postgres_dsn
from adapters.persistence.database_url import (
    InvalidDatabaseUrl,
    asyncpg_dsn,
    each_host,
    host_count,
    sqlalchemy_url,
)
from adapters.persistence.migrate import upgrade
from adapters.persistence.statements import Statement
from adapters.persistence.unit_of_work import AsyncpgUnitOfWork
from domain.errors import StorageUnavailable
from entrypoints.container import app_database_url
from entrypoints.local_postgres import free_port
from entrypoints.settings import DatabaseSettings, Settings

SPELLINGS = [
    "postgresql://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write",
    "postgresql://u:p@/db?host=h1,h2&port=5432,5433&target_session_attrs=read-write",
    "postgresql+asyncpg://u:p@/db?host=h1:5432&host=h2:5433&target_session_attrs=read-write",
    "postgres://u:p@/db?target_session_attrs=read-write&host=h1:5432&host=h2:5433",
]


@pytest.mark.parametrize("url", SPELLINGS)
def test_every_spelling_of_several_hosts_reads_the_same(url: str) -> None:
    assert asyncpg_dsn(url) == "postgresql://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write"
    parsed = make_url(sqlalchemy_url(url))
    assert parsed.query["host"] == ("h1:5432", "h2:5433") and parsed.query["target_session_attrs"] == "read-write"
    assert host_count(url) == 2
    assert each_host(url) == [
        "postgresql://u:p@h1:5432/db?target_session_attrs=read-write",
        "postgresql://u:p@h2:5433/db?target_session_attrs=read-write",
    ]


def test_a_port_left_out_is_postgresqls_own_and_one_port_serves_every_host() -> None:
    assert asyncpg_dsn("postgresql://u@h1,h2:6000/db") == "postgresql://u@h1:5432,h2:6000/db"
    assert asyncpg_dsn("postgresql://u@/db?host=h1,h2&port=6000") == "postgresql://u@h1:6000,h2:6000/db"


def test_a_single_host_url_keeps_its_spelling() -> None:
    url = "postgresql://u:p%40x@127.0.0.1:5432/db?sslmode=require"
    assert asyncpg_dsn(url) == url and sqlalchemy_url(url) == url.replace("postgresql://", "postgresql+asyncpg://")
    assert host_count(url) == 1


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u@h1,h2/db",
        "postgresql://u@/db?host=h1,h2,h3&port=1,2",
        "postgresql://u@h1:x,h2/db",
        "postgresql://u@,h2/db",
    ],
)
def test_an_unusable_host_list_is_refused_by_name(url: str) -> None:
    with pytest.raises(InvalidDatabaseUrl):
        asyncpg_dsn(url)


def test_the_derived_application_url_keeps_every_host() -> None:
    owner = "postgresql+asyncpg://owner:secret@h1:5432,h2:5433/db?target_session_attrs=read-write"
    settings = Settings(database=DatabaseSettings(url=owner, app_role="mfo_app"))
    assert postgres_dsn(app_database_url(settings)) == (
        "postgresql://mfo_app:secret@h1:5432,h2:5433/db?target_session_attrs=read-write"
    )


def _with_a_dead_host_first(url: str) -> str:
    """``url`` (one host) with a port nothing listens on in front of its host: libpq's form, read-write."""
    parsed = make_url(url)
    hosts = f"127.0.0.1:{free_port()},{parsed.host}:{parsed.port}"
    credentials = parsed.username + (f":{parsed.password}" if parsed.password else "")
    return f"postgresql://{credentials}@{hosts}/{parsed.database}?target_session_attrs=read-write"


async def test_the_pool_connects_past_a_dead_host_to_the_one_accepting_writes(migrated_url: str) -> None:
    database = Database(_with_a_dead_host_first(migrated_url))
    try:
        async with database.connection() as connection:
            assert await connection.fetchval("SELECT pg_is_in_recovery()") is False
            assert await connection.fetchval("SELECT inet_server_port()") == make_url(migrated_url).port
    finally:
        await database.close()


def test_the_migrations_run_through_a_multi_host_url(migrated_url: str) -> None:
    upgrade(_with_a_dead_host_first(migrated_url))  # at head already: connects, finds nothing to do, and says so


async def test_the_application_role_connects_through_a_derived_multi_host_url(migrated_url: str) -> None:
    owner = _with_a_dead_host_first(migrated_url)
    database = Database(app_database_url(Settings(database=DatabaseSettings(url=owner))))
    try:
        async with database.connection() as connection:
            assert await connection.fetchval("SELECT current_user") == "mfo_app"
    finally:
        await database.close()


_PID = Statement(text("SELECT pg_backend_pid() AS pid"))
_READ_ONLY = Statement(text("SET TRANSACTION READ ONLY"))
_WRITE = Statement(text("CREATE TEMPORARY TABLE written_on_a_standby (n int)"))


async def test_a_connection_whose_node_refuses_writes_is_discarded_not_pooled(migrated_url: str) -> None:
    """A write refused as on a standby (25006) is an outage (503) and the connection is terminated, so the pool's
    next checkout connects afresh (to whichever host is the primary now) instead of reusing it."""
    database = Database(migrated_url)
    try:
        async with AsyncpgUnitOfWork(database) as uow:
            first = (await uow.fetchrow(_PID, {}))["pid"]
            await uow.commit()
        async with AsyncpgUnitOfWork(database) as uow:
            assert (await uow.fetchrow(_PID, {}))["pid"] == first  # a healthy connection is reused
            await uow.commit()
        with pytest.raises(StorageUnavailable, match="read-only"):
            async with AsyncpgUnitOfWork(database) as uow:
                await uow.fetch(_READ_ONLY, {})
                await uow.execute(_WRITE, {})
        async with AsyncpgUnitOfWork(database) as uow:
            assert (await uow.fetchrow(_PID, {}))["pid"] != first
            await uow.commit()
    finally:
        await database.close()


async def test_a_pooled_connection_that_failed_outside_a_unit_of_work_is_discarded(migrated_url: str) -> None:
    database = Database(migrated_url)
    try:
        async with database.connection() as connection:
            first = await connection.fetchval("SELECT pg_backend_pid()")
        with pytest.raises(StorageUnavailable):
            async with database.connection() as connection:
                await connection.execute("BEGIN READ ONLY; CREATE TEMPORARY TABLE refused (n int)")
        async with database.connection() as connection:
            assert await connection.fetchval("SELECT pg_backend_pid()") != first
    finally:
        await database.close()


async def test_a_connection_the_server_closed_mid_transaction_is_an_outage_not_a_bug(migrated_url: str) -> None:
    """A switchover terminates the old primary's backends (57P01): asyncpg gives such a connection back to its pool
    by itself, and the unit of work must still answer 503 (StorageUnavailable), not trip over the handed-back
    connection (a 500)."""
    database = Database(migrated_url, PoolOptions(keep_idle=0))
    try:
        with pytest.raises(StorageUnavailable):
            async with AsyncpgUnitOfWork(database) as uow:
                pid = (await uow.fetchrow(_PID, {}))["pid"]
                async with database.connection() as other:
                    await other.execute("SELECT pg_terminate_backend($1)", pid)
                await uow.fetchrow(_PID, {})
        async with database.connection() as connection:
            assert await connection.fetchval("SELECT pg_backend_pid()") != pid
    finally:
        await database.close()


@pytest.mark.parametrize("variable", ["url", "app_url"])
def test_a_host_list_that_does_not_read_stops_every_command_naming_its_variable(variable: str) -> None:
    from entrypoints.cli import resolve_settings

    urls = {"url": "postgresql+asyncpg://u@h1:5432,h2:5433/db", variable: "postgresql+asyncpg://u@h1:x,h2/db"}
    name = "MFO_DATABASE_URL" if variable == "url" else "MFO_APP_DATABASE_URL"
    with pytest.raises(SystemExit, match=f"{name}: the port of 'h1:x' is not a number"):
        resolve_settings(Settings(database=DatabaseSettings(**urls)))


@pytest.fixture
def silent_host() -> Iterator[str]:
    """A host:port that accepts TCP connections and never answers (a host gone dark: its kernel's backlog
    completes the handshake, nothing speaks PostgreSQL)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


async def test_a_host_that_never_answers_costs_one_connect_timeout_then_the_next_is_tried(
    migrated_url: str, silent_host: str
) -> None:
    """libpq's rule, which asyncpg alone does not follow (its timeout covers every host together): the connect
    timeout applies to each host in turn, so a primary gone dark at the head of the list does not keep MFO from its
    new primary."""
    parsed = make_url(migrated_url)
    url = (
        f"postgresql://{parsed.username}@{silent_host},{parsed.host}:{parsed.port}/{parsed.database}"
        "?target_session_attrs=read-write"
    )
    database = Database(url, PoolOptions(connect_timeout_seconds=1, acquire_timeout_seconds=5))
    try:
        async with database.connection() as connection:
            assert await connection.fetchval("SELECT inet_server_port()") == parsed.port
    finally:
        await database.close()
