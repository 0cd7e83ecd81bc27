"""Each fault test gets a PostgreSQL cluster of its own (durable, so a crash loses nothing acknowledged) that it may
stop and restart on the same port, and a real ``mfo serve`` process over it. The shared session database is not used.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from entrypoints.local_postgres import LocalPostgres, free_port
from tests.faults.environment import MfoServer


@pytest.fixture
def workdir() -> Iterator[Path]:
    parent = Path(tempfile.mkdtemp(prefix="mfo-faults-"))
    parent.chmod(0o755)  # the server user must reach its data folder inside
    yield parent
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def cluster(workdir: Path) -> Iterator[LocalPostgres]:
    from adapters.persistence.migrate import upgrade

    cluster = LocalPostgres(workdir / "data", database="mfo_faults", durable=True)
    try:
        upgrade(cluster.ensure_running())
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
async def serve(cluster: LocalPostgres, workdir: Path) -> AsyncIterator[Callable[..., MfoServer]]:
    """``serve(**env)``: an MFO server process (not yet started) over the test's cluster; stopped at the end."""
    servers: list[MfoServer] = []

    def make(**env: str) -> MfoServer:
        assert cluster.port is not None
        server = MfoServer(cluster.url(cluster.port), workdir / "server.log", free_port(), **env)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
