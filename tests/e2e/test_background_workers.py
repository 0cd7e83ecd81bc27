"""Background execution with real processes: two servers and two ``mfo worker`` processes on one database, a
worker killed with SIGKILL mid-phase (its lease expires and another worker takes the phase over), and a phase that
keeps raising. The processes share nothing but PostgreSQL, which is a database of these tests' own, so
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
    MfoProcess,
    create_database,
    install_sleeper_plugin,
    mfo_env,
)
from tests.support import DISCOVERY_CSV, drop_database, eventually_sync, headers

pytestmark = pytest.mark.slow

MAPPINGS = {"hostname": "name", "type": "asset_type", "os": "os", "env": "environment", "depends_on": "depends_on"}
# Quick polls; discovery runs without the CrewAI bridge here, which saves each process importing crewai (tens of
# seconds on a busy machine). tests/integration/test_background_execution.py runs it through the bridge.
FAST = {"worker_poll_seconds": 0.2, "crewai_flow_types": ""}
PHASE_EVENTS = ("execute_phase", "reattempt_phase", "complete_phase")
"""The events a runner records: an attempt claimed (the first, or a later one), an attempt ended."""


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


def owned_by(process: MfoProcess) -> Callable[[str], bool]:
    """Whether a lease's or an attempt's owner (``host:pid:random``) is ``process``'s runner."""
    return lambda owner: owner.split(":")[1] == str(process.process.pid)


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
            assert waiting["current_phase"] == "field_mapping" and waiting["running_phase"] is None
            answer = http.post(f"{next(other_server)}{location}/input", json={"approved": True, "mappings": MAPPINGS})
            assert answer.status_code == 200
        for location in discoveries + sleepers:
            done = eventually_sync(
                flow_in(http, f"{next(other_server)}{location}", "completed"), within=20, what="the flow completed"
            )
            status = http.get(f"{next(other_server)}{location}/status").json()
            assert status["in_sync"] is True and status["running_phase"] is None
            events = http.get(f"{next(other_server)}{location}/events?limit=50").json()["items"]
            assert len(events) == done["version"]
            ran = [e for e in events if e["operation"] in PHASE_EVENTS]
            assert {e["actor"] for e in ran} == {"worker"}  # no server ran a phase: their runners do not poll
            # each phase begun once and ended once (an input phase ends waiting; its input completes it): the first
            # phase after the start, and after the input, by a poll's claim, every other one by the completion of the
            # phase before it, in the same event
            begun = {run["run_id"]: run["phase"] for e in ran if (run := e["data"].get("run")) and run["run_id"]}
            assert list(begun.values()) == [phase["name"] for phase in done["phases"]]
            assert sum(1 for e in ran if e["operation"] == "complete_phase") == len(begun)
            inputs = sum(1 for e in events if e["operation"] == "submit_input")
            assert sum(1 for e in ran if e["operation"] == "execute_phase") == 1 + inputs
            attempts = http.get(f"{next(other_server)}{location}/attempts").json()["items"]
            assert sorted((a["run_id"], a["phase"]) for a in attempts) == sorted(begun.items())
            assert {a["result"] for a in attempts} <= {"completed", "needs_input"}
            assert all(owned_by(workers[0])(a["owner"]) or owned_by(workers[1])(a["owner"]) for a in attempts)
        pids = {http.get(f"{servers[0]}{location}").json()["phase_results"]["first"]["pid"] for location in sleepers}
    # six half-second phases at two at a time per worker: both workers took some
    assert pids == {worker.process.pid for worker in workers}
    assert leases(database) == []
    report = audit(database, plugin)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "0 inconsistent" in report.stderr


def test_a_worker_killed_mid_phase_leaves_the_phase_to_another_worker(
    database: str, plugin: Path, fleet: Any, tenant: Tenant, tmp_path: Path
) -> None:
    # a lease of 2 s renewed every 0.5 s: a worker that stops renewing is noticed within seconds
    settings = {"worker_lease_seconds": 2, "worker_heartbeat_seconds": 0.5, **FAST}
    processes = fleet(mfo_env(database, plugin, worker_in_serve="false", **settings))
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
        # the phase has begun on one worker: kill that worker
        workers[0].wait_until(lambda: pid_file.exists() and pid_file.read_text() != "", "the first phase starting")
        [doomed] = [w for w in workers if str(w.process.pid) == pid_file.read_text()]
        [rescuer] = [w for w in workers if w is not doomed]
        running = http.get(f"{location}/status").json()["running_phase"]
        assert (running["phase"], running["attempt"]) == ("first", 1)
        assert owned_by(doomed)(running["lease"]["owner"]) and running["lease"]["expired"] is False
        [(owner, _)] = leases(database, flow_id)
        assert owned_by(doomed)(owner)
        doomed.kill()
        flow = http.get(location).json()
        assert flow["status"] == "running" and flow["phases"][0]["state"] == "running"  # nothing of it was kept
        done = eventually_sync(flow_in(http, location, "completed"), within=30, what="the flow completed elsewhere")
        events = http.get(f"{location}/events").json()["items"]
        attempts = http.get(f"{location}/attempts").json()["items"]
    assert done["phase_results"]["first"]["pid"] == rescuer.process.pid
    # newest first: the second phase, then the first phase's second attempt (the rescuer's) and its first (lost)
    assert [(a["phase"], a["attempt"], a["result"]) for a in attempts] == [
        ("second", 1, "completed"),
        ("first", 2, "completed"),
        ("first", 1, "retrying"),
    ]
    assert "stopped renewing the lease" in attempts[2]["detail"]
    assert owned_by(doomed)(attempts[2]["owner"])
    assert owned_by(rescuer)(attempts[1]["owner"]) and owned_by(rescuer)(attempts[0]["owner"])
    assert [e["operation"] for e in events] == [
        "create",
        "start",
        "execute_phase",  # first, attempt 1, on the doomed worker
        "complete_phase",  # its lease expired: the attempt failed, another is due
        "reattempt_phase",  # first, attempt 2, on the rescuer
        "complete_phase",  # first completed, and second claimed by the rescuer in the same event
        "complete_phase",  # second
    ]
    assert "lease expired" in events[3]["data"]["attempt_error"]
    assert (events[5]["data"]["run"]["phase"], events[5]["data"]["run"]["attempt"]) == ("second", 1)
    assert events[5]["data"]["run"]["run_id"] == attempts[0]["run_id"]
    assert leases(database, flow_id) == []
    report = audit(database, plugin)
    assert report.returncode == 0, report.stdout + report.stderr


def test_a_phase_that_keeps_failing_fails_its_flow_after_the_policy_s_attempts(
    database: str, plugin: Path, fleet: Any, tenant: Tenant
) -> None:
    processes = fleet(mfo_env(database, plugin, worker_in_serve="true", **FAST))
    _, base = processes.server("server")  # its own runner polls for due work too
    processes.wait()
    with httpx.Client(base_url=base, headers=headers(tenant), timeout=10) as http:
        location = http.post(
            "/api/v1/flows",
            json={"flow_type": "sleeper", "name": "crashing", "configuration": {"raise_in": "first"}},
        ).headers["location"]
        http.post(f"{location}/start", json={"auto_run": True})
        # the default policy: three attempts, 1 s and then 2 s apart
        failed = eventually_sync(flow_in(http, location, "failed"), within=30, what="the flow failed")
        attempts = http.get(f"{location}/attempts").json()["items"]
    crashed = "phase 'first' raised an unexpected error (RuntimeError: sleeper crashed in first)"
    assert failed["error"] == (
        f"phase 'first' failed after 3 attempts (attempt 1: {crashed}; attempt 2: {crashed}; attempt 3: {crashed}); "
        "POST .../retry runs it again"
    )
    assert failed["phases"][0] == {"name": "first", "state": "failed"} and failed["running_phase"] is None
    assert [(a["attempt"], a["result"]) for a in attempts] == [(3, "failed"), (2, "retrying"), (1, "retrying")]
    assert all(a["detail"] == crashed for a in attempts)


def leases(database: str, flow_id: str | None = None) -> list[tuple[str, str]]:
    """The leases held (of one flow, or of any), as (owner, flow id), read on a thread of its own (the tests' event
    loop stays untouched)."""

    async def read() -> list[tuple[str, str]]:
        engine = create_async_engine(database)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        "SELECT owner, CAST(flow_id AS text) FROM phase_leases"
                        " WHERE CAST(:id AS uuid) IS NULL OR flow_id = CAST(:id AS uuid)"
                    ),
                    {"id": flow_id},
                )
                return [tuple(row) for row in rows]  # type: ignore[misc]
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, read()).result()
