"""Whether the database answers (``GET /health``)."""

from __future__ import annotations

from adapters.persistence.database import Database


class DatabaseHealth:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def check(self) -> str:
        """The server's version string; raises when the database does not answer."""
        async with self._database.connection() as connection:
            return str(await connection.fetchval("SHOW server_version"))
