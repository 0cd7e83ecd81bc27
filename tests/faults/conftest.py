"""Each fault test gets a PostgreSQL cluster of its own (durable, so a crash loses nothing acknowledged) that it may
stop and restart on the same port, and real ``mfo serve`` (and ``mfo worker``) processes over it. The shared session
database is not used.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from entrypoints.local_postgres import LocalPostgres, free_port
from tests.faults.environment import MfoServer, MfoWorker, install_sleeper


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


@pytest.fixture
async def worker(cluster: LocalPostgres, workdir: Path) -> AsyncIterator[Callable[..., MfoWorker]]:
    """``worker(**env)``: an ``mfo worker`` process (not yet started) over the test's cluster, with a log file of its
    own; stopped at the end."""
    workers: list[MfoWorker] = []

    def make(**env: str) -> MfoWorker:
        assert cluster.port is not None
        workers.append(MfoWorker(cluster.url(cluster.port), workdir / f"worker-{len(workers) + 1}.log", **env))
        return workers[-1]

    yield make
    for each in workers:
        each.stop()


@pytest.fixture
async def sleeper(cluster: LocalPostgres, workdir: Path) -> dict[str, str]:
    """The sleeper flow type (tests/plugin_example/sleeper.py) for the test's processes: its child table created in
    the cluster, as its own migration would, and the environment that registers it (a distribution's metadata with
    its entry point, on the processes' ``PYTHONPATH``)."""
    assert cluster.port is not None
    return await install_sleeper(cluster.url(cluster.port), workdir)
