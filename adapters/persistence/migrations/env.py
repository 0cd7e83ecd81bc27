"""Alembic environment: the async engine, the URL from the Alembic config, metadata from the tables."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.persistence.schema import schema_metadata

config = context.config
metadata = schema_metadata()


def mfo_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """pgqueuer's tables (migration 0005 created them from its own DDL, 0010 dropped them) are not in the metadata."""
    return not (type_ == "table" and name is not None and name.startswith("pgqueuer"))


def run_migrations(connection: Connection) -> None:
    """Every pending migration in one transaction of the connection's own: all of them, or none."""
    # compare_type and compare_server_default: autogenerate and `alembic check` (tests/integration/test_schema_drift.py)
    # also see a changed column type or default. Row-level security policies and grants are not compared by Alembic
    # at all; tests/integration/test_row_level_security.py checks those.
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        compare_server_default=True,
        include_object=mfo_object,
    )
    with connection.begin():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("MFO's migrations run against a database (mfo migrate); offline SQL scripts are not supported")
asyncio.run(run_async_migrations())
