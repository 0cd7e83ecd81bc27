"""The PostgreSQL the tests run on, found in this order:

1. ``MFO_TEST_DATABASE_URL``;
2. testcontainers, when it is installed and a Docker engine answers;
3. a throwaway local cluster from PostgreSQL's own binaries (fsync off), removed afterwards.

Also the databases a test makes on that server for itself: migrated, with the child tables of flow types that
ship their own (as a type outside MFO creates its table in its own migration), dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

from domain.flow_types import ChildTable
from entrypoints.settings import async_database_url


@contextmanager
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server (as its superuser), for as long as the context lasts."""
    if os.environ.get("MFO_TEST_DATABASE_URL"):
        yield async_database_url(os.environ["MFO_TEST_DATABASE_URL"])
        return
    from_docker = _testcontainers_url()
    if from_docker is not None:
        yield from from_docker
        return
    from entrypoints.local_postgres import LocalPostgres

    parent = Path(tempfile.mkdtemp(prefix="mfo-test-"))
    parent.chmod(0o755)  # the server user must reach its data folder inside
    cluster = LocalPostgres(parent / "data", database="mfo_test", durable=False)
    try:
        yield cluster.ensure_running()
    finally:
        cluster.destroy()
        parent.rmdir()


def _testcontainers_url() -> Iterator[str] | None:
    try:
        from docker.errors import DockerException
    except ImportError:
        return None
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # testcontainers before 4.14
        from testcontainers.postgres import PostgresContainer
    try:
        container = PostgresContainer("postgres:16-alpine", driver="asyncpg")
        container.start()
    except DockerException:
        return None

    def serve() -> Iterator[str]:
        try:
            yield container.get_connection_url()
        finally:
            container.stop()

    return serve()


async def migrated_database(server_url: str, prefix: str, child_tables: Iterable[ChildTable] = ()) -> str:
    """A new database on the server of ``server_url``, migrated, with those of ``child_tables`` the migrations did
    not create (each as a type outside this repository creates its own): a test's own, whose rows no other test
    reads. Its URL."""
    import asyncpg
    from sqlalchemy.engine import make_url

    from adapters.persistence.child_tables import child_table_ddl
    from adapters.persistence.database import postgres_dsn
    from adapters.persistence.migrate import upgrade

    name = f"{prefix}_{uuid4().hex[:10]}"
    connection = await asyncpg.connect(postgres_dsn(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)
    connection = await asyncpg.connect(postgres_dsn(url))
    try:
        for table in child_tables:
            if await connection.fetchval("SELECT to_regclass($1)", table.name) is None:
                for statement in child_table_ddl(table):
                    await connection.execute(statement)
    finally:
        await connection.close()
    return url


async def drop_database(server_url: str, url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    from adapters.persistence.database import postgres_dsn

    connection = await asyncpg.connect(postgres_dsn(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await connection.close()
