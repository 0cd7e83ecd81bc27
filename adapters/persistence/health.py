from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


class DatabaseHealth:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> str:
        """The server's version string; raises when the database does not answer."""
        async with self._engine.connect() as connection:
            return str((await connection.execute(text("SHOW server_version"))).scalar_one())
