"""The database at run time: an asyncpg connection pool, every wait bounded, JSON decoded and encoded by asyncpg.

MFO's adapters talk to PostgreSQL through asyncpg alone (ADR 0013): SQLAlchemy Core describes the tables and
compiles the statements once (adapters/persistence/statements.py); migrations run through Alembic.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from sqlalchemy.engine import make_url

from adapters.persistence.database_url import asyncpg_dsn, each_host, host_count, sqlalchemy_url
from adapters.persistence.storage_errors import DRIVER_ERRORS, discards_connection, translated_errors


@dataclass(frozen=True)
class PoolOptions:
    """How the pool connects and how long anything may wait (README, "Failure behaviour")."""

    max_size: int = 20
    keep_idle: int = 10
    """Connections kept open while idle; one given back beyond them is closed (the burst's overflow), so idle
    replicas do not hold the database's connection budget."""
    acquire_timeout_seconds: float = 10.0
    """The longest a unit of work waits for a free connection (then: the store is unavailable)."""
    connect_timeout_seconds: float = 5.0
    command_timeout_seconds: float = 35.0
    """Client side: a backstop for a server that stops answering with the connection left open."""
    statement_timeout_ms: int = 30_000
    lock_timeout_ms: int = 5_000
    application_name: str = "mfo"
    transaction_pooling: bool = False
    """The URL leads to PgBouncer in transaction pooling mode (ADR 0017): asyncpg prepares no named statement (its
    statement cache is off), and the timeouts are set in each unit of work's transaction (``SET LOCAL``) instead of
    at connect time (PgBouncer refuses those startup parameters)."""

    def transaction_settings(self) -> dict[str, str]:
        """The settings each unit of work's transaction sets for itself: the timeouts when the connection's session
        cannot carry them (behind PgBouncer), else none (the session has them from the start)."""
        if not self.transaction_pooling:
            return {}
        return {
            "statement_timeout": str(int(self.statement_timeout_ms)),
            "lock_timeout": str(int(self.lock_timeout_ms)),
        }

    def session_settings(self) -> dict[str, str]:
        """The settings a new connection asks for at start-up: PgBouncer passes only ``application_name`` on."""
        if self.transaction_pooling:
            return {"application_name": self.application_name}
        return {
            "statement_timeout": str(self.statement_timeout_ms),
            "lock_timeout": str(self.lock_timeout_ms),
            "application_name": self.application_name,
        }


class PoolTimeout(TimeoutError):
    """No pooled connection became free (or none could be connected) within ``acquire_timeout_seconds``."""


class PoolClosed(ConnectionError):
    """A checkout after the pool was closed (the process is shutting down)."""


def postgres_dsn(url: str) -> str:
    """asyncpg's own URL from SQLAlchemy's ``postgresql+asyncpg://`` (which Alembic and the settings use), several
    hosts as ``h1:p1,h2:p2`` (adapters/persistence/database_url.py)."""
    return asyncpg_dsn(url)


def url_with_user(url: str, username: str, password: str | None) -> str:
    """``url`` logging in as ``username``, with ``password`` (None: the password ``url`` has)."""
    parsed = make_url(sqlalchemy_url(url))
    return parsed.set(username=username, password=parsed.password if password is None else password).render_as_string(
        hide_password=False
    )


async def connect_host_by_host(dsn: str, **options: Any) -> asyncpg.Connection:
    """asyncpg's ``connect`` over a DSN of several hosts, with libpq's rule for the ``timeout``: it applies to each
    host in turn (asyncpg's own covers all of them together, so a host gone dark at the head of the list would use
    it up and the next host, the primary of now, never be tried). The first host that connects and has the
    ``target_session_attrs`` the DSN asks for wins; when none does, the last host's error is raised."""
    failure: BaseException | None = None
    for single in each_host(dsn):
        try:
            return await asyncpg.connect(single, **options)
        except (*DRIVER_ERRORS, TimeoutError, OSError) as error:  # this host is down, dark or not the primary
            failure = error
    assert failure is not None, "a DSN names at least one host"
    raise failure


def handed_back(connection: asyncpg.Connection) -> bool:
    """Whether asyncpg has already given a lent connection back to its pool: it does so by itself when the server
    closed the connection (a restart, a switchover's ``terminating connection due to administrator command``)."""
    try:
        connection.is_closed()
    except asyncpg.InterfaceError:  # "connection has been released back to the pool"
        return True
    return False


def discard(connection: asyncpg.Connection) -> None:
    """Close a lent connection at once (its state is unknown, or its node no longer the primary); the pool opens a
    new one in its place. One the server closed is handed back already, and left alone."""
    if not handed_back(connection):
        connection.terminate()


def _encode_json(value: object) -> str:
    """A value as JSON text; a ``str`` is JSON text already, as asyncpg itself takes it (a library's statements run
    on the unit of work's connection may pass their documents so)."""
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


async def _install_json_codecs(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog", format="text"
        )


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """The pool's reset between borrowers. MFO leaves no session state on a connection (no ``SET`` without
    ``LOCAL``, no ``LISTEN``, no session advisory lock, no cursor), and asyncpg itself rolls back a transaction left
    open, so the default reset query (``RESET ALL``, ``UNLISTEN *``, ...: a round trip per release) is not needed.
    That is also what lets the pool run behind PgBouncer in transaction pooling mode (ADR 0017)."""


def statement_cache_arguments(options: PoolOptions) -> dict[str, int]:
    """asyncpg's statement cache (its default) directly; off behind PgBouncer. There a server connection serves
    other clients after each transaction, so a statement prepared under a name on it is unknown there (or another
    client's). Uncached, asyncpg sends every statement unnamed, its Parse, Bind and Execute before one Sync: PgBouncer
    keeps them on one server connection."""
    return {"statement_cache_size": 0} if options.transaction_pooling else {}


class Database:
    """A pool of connections to one PostgreSQL database, created on first use in the running event loop.

    ``checkouts`` and ``commits`` count what the units of work did (one request checks out one connection and
    commits at most once: the tests and the bench read them).
    """

    def __init__(self, url: str, options: PoolOptions | None = None) -> None:
        self._dsn = postgres_dsn(url)
        self._options = options or PoolOptions()
        self._pool: asyncpg.Pool | None = None
        self._creating = asyncio.Lock()
        self._closed = False
        self.checkouts = 0
        self.commits = 0

    @property
    def options(self) -> PoolOptions:
        return self._options

    async def acquire(self) -> asyncpg.Connection:
        if self._closed:
            raise PoolClosed("the database's pool is closed: the process is shutting down")
        pool = self._pool or await self._create()
        try:
            connection = await pool.acquire(timeout=self._options.acquire_timeout_seconds)
        except TimeoutError as error:  # no free connection, or no new one connected, in time
            raise PoolTimeout("no database connection could be had in time") from error
        self.checkouts += 1
        return connection

    async def release(self, connection: asyncpg.Connection) -> None:
        """Give ``connection`` back to the pool it came from (also while the pool is closing); closed instead when
        ``keep_idle`` connections are idle already."""
        assert self._pool is not None, "release() of a connection this database never lent"
        if handed_back(connection):
            return
        if self._pool.get_idle_size() >= self._options.keep_idle and not connection.is_closed():
            await connection.close()  # back to the pool as a free slot: a new connection is opened when needed
            return
        await self._pool.release(connection)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for the block (outside any unit of work: the auditor, health, gauges, API keys);
        a database failure in the block is raised as the domain error it stands for, and an outage closes the
        connection instead of pooling it again."""
        with translated_errors():
            connection = await self.acquire()
            try:
                yield connection
            except BaseException as error:
                if discards_connection(error):
                    discard(connection)
                raise
            finally:
                await self.release(connection)

    async def close(self) -> None:
        """Refuse new checkouts, then close the pool once every lent connection is back."""
        self._closed = True
        if self._pool is not None:
            await self._pool.close()

    async def _create(self) -> asyncpg.Pool:
        async with self._creating:
            if self._pool is None:
                o = self._options
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=0,
                    max_size=o.max_size,
                    timeout=o.connect_timeout_seconds,
                    command_timeout=o.command_timeout_seconds,
                    server_settings=o.session_settings(),
                    **statement_cache_arguments(o),
                    init=_install_json_codecs,
                    reset=_nothing_to_reset,
                    connect=connect_host_by_host if host_count(self._dsn) > 1 else None,
                )
            return self._pool
