"""The harness's world: its own event loop, a container on the test database with fault switches installed,
the real Litestar app behind an in-process HTTP client, and a second connection for faults and resets."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from entrypoints.container import Container, build_container, close_databases
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.consistency.faults import Switches, faulty_registry
from tests.support import asgi_client

T = TypeVar("T")


@dataclass
class Stats:
    steps: int = 0
    examples: int = 0
    resets: int = 0
    reset_seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    runs: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


STATS = Stats()


class Environment:
    def __init__(self, settings: Settings, switches: Switches | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.settings = settings
        self.switches = switches or Switches()
        self.container: Container = build_container(settings)
        assert settings.database.url
        self.admin = create_async_engine(settings.database.url, pool_size=2)
        plain = self.container.flow_types()
        self.definitions = {d.name: d for d in plain.definitions()}
        self.bridged = frozenset(name for name in self.definitions if settings.crewai.bridges(name))
        self.container.flow_types.override(
            providers.Object(faulty_registry(plain, self.switches, self.admin, self.container.unit_of_work))
        )
        self.app = create_app(settings, self.container)
        self.client = asgi_client(self.app)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def reset_database(self) -> None:
        """Empty every flow table in one statement (the child tables follow the master by CASCADE)."""
        started = time.perf_counter()

        async def truncate() -> None:
            async with self.admin.begin() as connection:
                await connection.execute(text("TRUNCATE flows CASCADE"))

        self.run(truncate())
        STATS.resets += 1
        STATS.reset_seconds += time.perf_counter() - started

    def close(self) -> None:
        async def dispose() -> None:
            await self.client.aclose()
            await close_databases(self.container)
            await self.admin.dispose()

        self.run(dispose())
        self.container.flow_types.reset_override()
        self.loop.close()
