"""Whether the database answers (``GET /health``, ``GET /readyz``), and whether its schema is at the migrations'
head (``GET /readyz``)."""

from __future__ import annotations

from functools import cache

from adapters.persistence.database import Database


class DatabaseHealth:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def check(self) -> str:
        """The server's version string; raises when the database does not answer."""
        async with self._database.connection() as connection:
            return str(await connection.fetchval("SHOW server_version"))


@cache
def head_revisions() -> frozenset[str]:
    """The head revisions of the migrations this code ships (read from their files once)."""
    from alembic.script import ScriptDirectory

    from adapters.persistence.migrate import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config("postgresql://")).get_heads())


class SchemaRevision:
    """The schema's Alembic revision, read as the schema's owner (the application role may not read
    ``alembic_version``)."""

    def __init__(self, owner: Database) -> None:
        self._owner = owner

    async def behind(self) -> str | None:
        """None when the database is at the head revision; else what it is at and what the head is. Raises when
        the database does not answer."""
        async with self._owner.connection() as connection:
            exists = await connection.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL")
            rows = await connection.fetch("SELECT version_num FROM alembic_version") if exists else []
        current = frozenset(row["version_num"] for row in rows)
        heads = head_revisions()
        if current == heads:
            return None
        at = ", ".join(sorted(current)) or "no revision (never migrated)"
        return f"at {at}, the code's head is {', '.join(sorted(heads))}: run mfo migrate"
