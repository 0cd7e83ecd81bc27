"""PostgreSQL fails over under load, twice: a planned switchover (``pg_autoctl perform switchover``), then a crash of
the primary (SIGKILL of its keeper and its postmaster). MFO is given both nodes in one multi-host URL
(``target_session_attrs=read-write``), and finds the new primary by itself.

Four clients drive discovery flows over HTTP against a real ``mfo serve`` while auto-run sleeper flows run on two
``mfo worker`` processes. During each switch every request is answered within the client's timeout: 2xx, 409, or
503 with ``Retry-After`` (never another 5xx, never a hang). Afterwards every acknowledged write is on the new
primary at its acknowledged version or later, the auditor finds nothing, every auto-run flow completes, and no two
attempts of one flow ever overlap (phase_attempts, and the sleeper's own log of when each ran). The test prints how
long writes were unavailable during each switch."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.persistence.database_url import sqlalchemy_url
from adapters.persistence.migrate import upgrade
from domain.events import Tenant
from entrypoints.local_postgres import free_port
from tests.faults.auto_failover import AutoFailoverCluster, Keeper, pg_autoctl_available
from tests.faults.environment import (
    MfoServer,
    MfoWorker,
    audit_findings,
    changed_after_refusals,
    install_sleeper,
    lost_writes,
)
from tests.faults.load import Load, tenant_headers
from tests.faults.phases import overlapping, sleeper_log
from tests.plugin_example import sleeper as sleeper_type
from tests.support import eventually

pytestmark = pytest.mark.slow

RUNNERS = {
    "MFO_WORKER_LEASE_SECONDS": "10",
    "MFO_WORKER_HEARTBEAT_SECONDS": "1",
    "MFO_WORKER_POLL_SECONDS": "0.3",
    "MFO_DB_CONNECT_TIMEOUT": "2",
}
CRASH_GOAL_SECONDS = 15
SWITCHOVER_GOAL_SECONDS = 5


@pytest.fixture
def ha_cluster(workdir: Path) -> object:
    if not pg_autoctl_available():
        pytest.fail("pg_auto_failover is not installed: make auto-failover (make test does) installs Debian's packages")
    cluster = AutoFailoverCluster(workdir / "ha")
    try:
        cluster.start()
        upgrade(cluster.url())  # through the multi-host URL: the migrations find the primary too
        yield cluster
    finally:
        cluster.destroy()


class AutoRunFlows:
    """Creates an auto-run sleeper flow every ``every`` seconds until stopped, retrying each write (with its
    ``Idempotency-Key``) through 503s and refused connections, and keeps the ids of those started."""

    def __init__(self, base_url: str, log: Path, every: float = 0.7) -> None:
        self._base_url = base_url
        self._log = log
        self._every = every
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.started: list[str] = []
        self.unexpected: list[str] = []

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task

    async def _run(self) -> None:
        configuration = {"seconds": {"first": 1, "second": 1}, "attempts_log": str(self._log)}
        async with httpx.AsyncClient(
            base_url=self._base_url, headers=tenant_headers(Tenant(uuid4(), uuid4())), timeout=10
        ) as http:
            while not self._stop.is_set():
                body = {"flow_type": "sleeper", "name": "auto-run", "configuration": configuration}
                created = await self._write(http, "/api/v1/flows", body, 201)
                if created is not None:
                    flow_id = created["flow_id"]
                    if await self._write(http, f"/api/v1/flows/{flow_id}/start", {"auto_run": True}, 200):
                        self.started.append(flow_id)
                await asyncio.sleep(self._every)  # the pace of new flows: not waiting for a condition

    async def _write(self, http: httpx.AsyncClient, path: str, body: dict, expected: int) -> dict | None:
        key = str(uuid4())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                response = await http.post(path, json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError as error:
                self.unexpected.append(f"POST {path}: {error!r}")
                return None
            if response.status_code == expected:
                return response.json()
            if response.status_code not in (409, 503) or (
                response.status_code == 503 and not response.headers.get("retry-after", "").isdigit()
            ):
                self.unexpected.append(f"POST {path} -> {response.status_code}: {response.text[:300]}")
                return None
            await asyncio.sleep(0.3)  # a client's back-off before retrying with the same key
        self.unexpected.append(f"POST {path}: not acknowledged within 60 s")
        return None


async def test_switchover_and_crash_of_the_primary_under_load(ha_cluster, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    cluster: AutoFailoverCluster = ha_cluster
    url = cluster.url()
    plugin = await install_sleeper(url, workdir)
    environment = {**RUNNERS, **plugin}
    server = MfoServer(url, workdir / "server.log", free_port(), MFO_WORKER_IN_SERVE="false", **environment)
    workers = [MfoWorker(url, workdir / f"worker-{n}.log", **environment) for n in (1, 2)]
    log = workdir / "attempts"
    log.mkdir()
    load = Load(server.base_url)
    auto_run = AutoRunFlows(server.base_url, log)
    unavailable: dict[str, float] = {}
    try:
        await asyncio.gather(server.start(), *(w.start() for w in workers))
        load.start()
        auto_run.start()
        await eventually(
            lambda: load.ledger.acks >= 30, within=30, what="writes before the switchover", detail=load.summary
        )

        unavailable["switchover"] = await _measured(
            load, cluster, "switchover", lambda: asyncio.to_thread(cluster.switchover)
        )
        await eventually(
            lambda: asyncio.to_thread(cluster.healthy),
            within=60,
            every=0.5,
            what="a synchronous standby again",
            detail=cluster.describe,
        )

        primary = cluster.primary()
        assert primary is not None, cluster.states()
        unavailable["crash"] = await _measured(load, cluster, "crash", lambda: _crash(cluster, primary))
        # auto-run flows started after the crash run on the new primary too: a few more, at the pace the (possibly
        # loaded) machine allows, before the load stops
        after_crash = len(auto_run.started) + 3
        await eventually(
            lambda: len(auto_run.started) >= max(10, after_crash),
            within=60,
            every=0.2,
            what="auto-run flows started after the crash",
            detail=lambda: auto_run.unexpected,
        )
    finally:
        await load.stop()
        await auto_run.stop()

    survivor = cluster.primary()
    assert survivor is not None and survivor is not primary, cluster.states()
    survivor_url = sqlalchemy_url(cluster.node_url(survivor))
    flow_ids = auto_run.started
    assert len(flow_ids) >= 10, auto_run.unexpected
    engine = create_async_engine(survivor_url, pool_size=2)
    try:
        await eventually(
            lambda: _all_completed(engine, flow_ids),
            within=60,
            what="every auto-run flow completed on the new primary",
            detail=lambda: "\n".join(w.log_tail(15) for w in workers),
        )
        attempt_overlaps = await _overlapping_attempts(engine, flow_ids)
    finally:
        await engine.dispose()
        for process in (server, *workers):
            process.stop()

    print(
        f"\nunavailable: switchover {unavailable['switchover']:.2f} s (goal < {SWITCHOVER_GOAL_SECONDS} s), "
        f"crash {unavailable['crash']:.2f} s (goal < {CRASH_GOAL_SECONDS} s); {load.summary()}; "
        f"{len(flow_ids)} auto-run flows"
    )
    assert load.violations == [], "\n".join(load.violations[:20]) + "\n" + _errors(server)
    assert auto_run.unexpected == [], auto_run.unexpected
    assert not [s for s in load.statuses if s >= 500 and s != 503], load.statuses
    assert load.slowest < load.timeout_seconds
    assert await lost_writes(survivor_url, load.ledger) == []
    assert await changed_after_refusals(survivor_url, load.unchanged) == []
    assert attempt_overlaps == []
    assert [o for f in flow_ids for o in overlapping(sleeper_log(log, f), {})] == []
    assert await audit_findings(survivor_url, (sleeper_type.register(),)) == []


def _errors(server: MfoServer) -> str:
    """The errors the server logged (a 500's traceback among them)."""
    return "\n".join(line for line in server.log().splitlines() if '"level":"error"' in line)[-20_000:]


async def _measured(load: Load, cluster: AutoFailoverCluster, what: str, fault) -> float:  # type: ignore[no-untyped-def]
    """Inject ``fault`` and wait for writes to flow again; the longest time without an acknowledged write."""
    began = time.monotonic()
    await fault()
    before = load.ledger.acks
    await eventually(
        lambda: load.ledger.acks >= before + 20,
        within=60,
        what=f"writes flowing again after the {what}",
        detail=lambda: f"{load.summary()}\n{cluster.describe()}",
    )
    return load.ledger.longest_gap(began, time.monotonic())


async def _crash(cluster: AutoFailoverCluster, primary: Keeper) -> None:
    await asyncio.to_thread(cluster.crash, primary)


async def _all_completed(engine, flow_ids: list[str]) -> bool:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT count(*) FROM flows WHERE flow_id::text = ANY(:ids) AND status = 'completed'"),
            {"ids": flow_ids},
        )
        return rows.scalar_one() == len(flow_ids)


async def _overlapping_attempts(engine, flow_ids: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Attempts of one flow (phase_attempts, on the new primary) that were open at the same time."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT flow_id::text, phase, attempt, started_at, ended_at FROM phase_attempts"
                    " WHERE flow_id::text = ANY(:ids) ORDER BY flow_id, started_at, attempt"
                ),
                {"ids": flow_ids},
            )
        ).all()
    found = []
    for flow_id, attempts in itertools.groupby(rows, key=lambda r: r[0]):
        for earlier, later in itertools.pairwise(attempts):
            if earlier.ended_at is None or later.started_at < earlier.ended_at:
                found.append(f"{flow_id}: {earlier.phase}#{earlier.attempt} and {later.phase}#{later.attempt} overlap")
    return found
