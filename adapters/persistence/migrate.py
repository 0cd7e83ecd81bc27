"""Run Alembic's migrations programmatically (``mfo migrate``), then give the application role its password."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.persistence.database_url import sqlalchemy_url
from adapters.persistence.row_level_security import DEFAULT_APP_ROLE, identifier

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str, app_role: str = DEFAULT_APP_ROLE) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("mfo_app_role", identifier(app_role))
    return config


def upgrade(
    database_url: str, revision: str = "head", app_role: str = DEFAULT_APP_ROLE, app_password: str | None = None
) -> None:
    """Migrate as the owner in ``database_url``; then set the application role's password: ``app_password``, or
    when None the owner's own (so a derived application URL works wherever the owner's does)."""
    database_url = sqlalchemy_url(database_url)
    command.upgrade(alembic_config(database_url, app_role), revision)
    password = app_password if app_password is not None else make_url(database_url).password
    if password:
        asyncio.run(set_password(database_url, app_role, password))


async def set_password(database_url: str, role: str, password: str) -> None:
    """``ALTER ROLE ... PASSWORD`` takes no bind parameter: the server quotes the literal with ``format``."""
    engine = create_async_engine(sqlalchemy_url(database_url))
    try:
        async with engine.begin() as connection:
            statement = await connection.scalar(
                text("SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :role, :password)"),
                {"role": identifier(role), "password": password},
            )
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


def autogenerate(database_url: str, message: str) -> None:
    command.revision(alembic_config(sqlalchemy_url(database_url)), message=message, autogenerate=True)
