"""Shared fixtures. PostgreSQL comes from the ``mfo`` pytest plugin's finder (entrypoints/testing/postgres.py), in
order:

1. ``MFO_TEST_DATABASE_URL``;
2. testcontainers, when a Docker engine answers;
3. a throwaway local cluster from PostgreSQL's own binaries (fsync off).

Tests never touch the ``make run`` data.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest

# crewai writes under ~/.config, ~/.local/share and CREWAI_STORAGE_DIR: keep that out of the real home.
_CREWAI_HOME = Path(tempfile.mkdtemp(prefix="mfo-test-home-"))
os.environ.update(
    HOME=str(_CREWAI_HOME),
    XDG_CONFIG_HOME=str(_CREWAI_HOME / ".config"),
    XDG_DATA_HOME=str(_CREWAI_HOME / ".local" / "share"),
    CREWAI_STORAGE_DIR=str(_CREWAI_HOME / "crewai-storage"),
)

from domain.events import Tenant  # noqa: E402
from entrypoints.container import Container  # noqa: E402
from entrypoints.settings import (  # noqa: E402
    ApiSettings,
    AuthSettings,
    DatabaseSettings,
    ObservabilitySettings,
    Settings,
)
from tests.support import TEST_JWT_SECRET, Detonator  # noqa: E402


@pytest.fixture(scope="session")
def database_url(mfo_postgres_url: str) -> str:
    """The server of the whole run, found by the ``mfo`` plugin (entrypoints/testing/postgres.py)."""
    return mfo_postgres_url


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    from adapters.persistence.migrate import upgrade

    upgrade(database_url)
    return database_url


@pytest.fixture(scope="session")
def settings(migrated_url: str) -> Settings:
    """Development-mode auth, so tests may name their tenant in headers; tests/e2e/test_auth.py runs production mode."""
    return settings_on(migrated_url)


def settings_on(url: str) -> Settings:
    return Settings(
        database=DatabaseSettings(url=url, pool_size=5, max_overflow=20),
        api=ApiSettings(),
        auth=AuthSettings(mode="dev", jwt_secret=TEST_JWT_SECRET),
        # tests read the gauges right after changing them; the cache has tests of its own
        observability=ObservabilitySettings(metrics_cache_seconds=0),
    )


@pytest.fixture(scope="session")
async def container(settings: Settings) -> AsyncIterator[Container]:
    from entrypoints.container import build_container, close_databases
    from tests.support import dispose_owner_engines

    container = build_container(settings)
    yield container
    await close_databases(container)
    await dispose_owner_engines()


@pytest.fixture
def detonator() -> Detonator:
    """Arms the exploding adapters of tests/support.py for one test."""
    return Detonator()


@pytest.fixture
def tenant() -> Tenant:
    """A fresh tenant per test keeps tests apart without cleaning the database."""
    return Tenant(uuid4(), uuid4())


@pytest.fixture
def other_tenant() -> Tenant:
    return Tenant(uuid4(), uuid4())
