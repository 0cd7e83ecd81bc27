"""Background execution with real processes: two servers and two workers on one database, and a worker killed
with SIGKILL mid-phase. The processes share nothing but PostgreSQL, which is a database of these tests' own, so
``mfo audit`` speaks for exactly the flows they made."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from domain.events import Tenant
from tests.e2e.processes import (
    REPOSITORY,
    Fleet,
    create_database,
    install_sleeper_plugin,
    mfo_env,
)
from tests.support import DISCOVERY_CSV, drop_database, eventually_sync, headers

pytestmark = pytest.mark.slow

MAPPINGS = {"hostname": "name", "type": "asset_type", "os": "os", "env": "environment", "depends_on": "depends_on"}
# Quick polls and retries; discovery runs without the CrewAI bridge here, which saves each process importing crewai
# (tens of seconds on a busy machine). tests/integration/test_background_execution.py runs it through the bridge.
FAST = {"worker_poll_seconds": 0.3, "worker_retry_delay_seconds": 0.2, "crewai_flow_types": ""}


@pytest.fixture(scope="module")
async def database(migrated_url: str) -> AsyncIterator[str]:
    url = await create_database(migrated_url)
    yield url
    await drop_database(migrated_url, url)


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_sleeper_plugin(tmp_path_factory.mktemp("plugin"))


@pytest.fixture
def fleet(tmp_path: Path) -> Any:
    started: list[Fleet] = []

    def launch(env: dict[str, str]) -> Fleet:
        started.append(Fleet(env, tmp_path))
        return started[-1]

    yield launch
    for each in started:
        each.stop()


def flow_in(http: httpx.Client, url: str, status: str) -> Callable[[], dict[str, Any]]:
    """A condition for :func:`eventually_sync`: the flow at ``url``, once it is in ``status``."""

    def condition() -> dict[str, Any]:
        flow = http.get(url).json()
        assert flow["status"] == status, f"{url} is {flow['status']} (error: {flow['error']})"
        return flow

    return condition


def audit(database: str, plugin: Path) -> subprocess.CompletedProcess[str]:
    env = mfo_env(database, plugin, crewai_flow_types=FAST["crewai_flow_types"])
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "audit"], env=env, cwd=REPOSITORY, capture_output=True, text=True
    )


def test_two_servers_and_two_workers_drive_flows_on_one_database(
    database: str, plugin: Path, fleet: Any, tenant: Tenant
) -> None:
    processes = fleet(mfo_env(database, plugin, worker_in_serve="false", worker_concurrency=2, **FAST))
    servers = [processes.server(name)[1] for name in ("server-a", "server-b")]
    workers = [processes.worker(name) for name in ("worker-a", "worker-b")]
    processes.wait()
    other_server = itertools.cycle(servers)
    with httpx.Client(headers=headers(tenant), timeout=10) as http:
        discoveries, sleepers = [], []
        for i in range(3):
            created = http.post(
                f"{next(other_server)}/api/v1/flows",
                json={"flow_type": "discovery", "name": f"d{i}", "configuration": {"data": DISCOVERY_CSV}},
            )
            discoveries.append(created.headers["location"])
        for i in range(6):
            created = http.post(
                f"{next(other_server)}/api/v1/flows",
                json={"flow_type": "sleeper", "name": f"s{i}", "configuration": {"seconds": {"first": 0.5}}},
            )
            sleepers.append(created.headers["location"])
        for location in discoveries + sleepers:
            started = http.post(f"{next(other_server)}{location}/start", json={"auto_run": True})
            assert started.status_code == 200 and started.json()["auto_run"] is True
        for location in discoveries:
            waiting = eventually_sync(
                flow_in(http, f"{next(other_server)}{location}", "waiting_for_input"), within=20, what="input awaited"
            )
            assert waiting["current_phase"] == "field_mapping"
            answer = http.post(f"{next(other_server)}{location}/input", json={"approved": True, "mappings": MAPPINGS})
            assert answer.status_code == 200
        for location in discoveries + sleepers:
            done = eventually_sync(
                flow_in(http, f"{next(other_server)}{location}", "completed"), within=20, what="the flow completed"
            )
            status = http.get(f"{next(other_server)}{location}/status").json()
            assert status["in_sync"] is True
            events = http.get(f"{next(other_server)}{location}/events?limit=50").json()["items"]
            assert len(events) == done["version"]
            assert [e["actor"] for e in events if e["operation"] == "execute_phase"] == ["worker"] * len(
                [e for e in events if e["operation"] == "execute_phase"]
            )
        pids = {http.get(f"{servers[0]}{location}").json()["phase_results"]["first"]["pid"] for location in sleepers}
    # six half-second phases at two at a time per worker: both workers took some
    assert pids == {worker.process.pid for worker in workers}
    report = audit(database, plugin)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "0 inconsistent" in report.stderr


def test_a_worker_killed_mid_phase_leaves_the_phase_to_another_worker(
    database: str, plugin: Path, fleet: Any, tenant: Tenant, tmp_path: Path
) -> None:
    processes = fleet(mfo_env(database, plugin, worker_in_serve="false", worker_lease_seconds=2, **FAST))
    _, base = processes.server("server")
    workers = [processes.worker("worker-a"), processes.worker("worker-b")]
    processes.wait()
    pid_file = tmp_path / "first-phase.pid"
    with httpx.Client(base_url=base, headers=headers(tenant), timeout=10) as http:
        location = http.post(
            "/api/v1/flows",
            json={
                "flow_type": "sleeper",
                "name": "slow",
                "configuration": {"seconds": {"first": 3}, "pid_file": str(pid_file)},
            },
        ).headers["location"]
        flow_id = location.rsplit("/", 1)[-1]
        http.post(f"{location}/start", json={"auto_run": True})
        # the phase has begun on one worker (its start is counted): kill that worker
        workers[0].wait_until(lambda: pid_file.exists() and pid_file.read_text() != "", "the first phase starting")
        [doomed] = [w for w in workers if str(w.process.pid) == pid_file.read_text()]
        [rescuer] = [w for w in workers if w is not doomed]
        assert attempts(database, flow_id) == [(2, 1)]
        doomed.kill()
        assert http.get(location).json()["status"] == "running"  # nothing of the half-run phase was kept
        done = eventually_sync(flow_in(http, location, "completed"), within=25, what="the flow completed elsewhere")
        events = http.get(f"{location}/events").json()["items"]
    first = next(e for e in events if e["data"].get("phase_results", {}).get("first"))
    assert first["data"]["background_attempt"] == 2  # the second start, after the lease ran out
    assert done["phase_results"]["first"]["pid"] == rescuer.process.pid
    assert attempts(database, flow_id) == []
    report = audit(database, plugin)
    assert report.returncode == 0, report.stdout + report.stderr


def test_a_phase_that_keeps_failing_fails_its_flow_after_the_configured_attempts(
    database: str, plugin: Path, fleet: Any, tenant: Tenant
) -> None:
    processes = fleet(mfo_env(database, plugin, worker_in_serve="true", worker_max_attempts=2, **FAST))
    server, base = processes.server("server")  # with its in-process worker
    processes.wait()
    with httpx.Client(base_url=base, headers=headers(tenant), timeout=10) as http:
        location = http.post(
            "/api/v1/flows",
            json={"flow_type": "sleeper", "name": "crashing", "configuration": {"raise_in": "first"}},
        ).headers["location"]
        http.post(f"{location}/start", json={"auto_run": True})
        failed = eventually_sync(flow_in(http, location, "failed"), within=20, what="the flow failed")
    assert "phase 'first' was started 2 times in the background and never finished" in failed["error"]
    assert failed["phases"][0] == {"name": "first", "state": "failed"}
    assert "sleeper crashed in first" in server.output()  # the worker logged each error it retried


def attempts(database: str, flow_id: str) -> list[tuple[int, int]]:
    """The flow's counted starts, read on a thread of its own (the tests' event loop stays untouched)."""

    async def read() -> list[tuple[int, int]]:
        engine = create_async_engine(database)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text("SELECT flow_version, attempts FROM background_phase_attempts WHERE flow_id = :id"),
                    {"id": flow_id},
                )
                return [tuple(row) for row in rows]  # type: ignore[misc]
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, read()).result()
