"""Many replicas, one connection budget (ADR 0017): six ``mfo serve`` and two ``mfo worker`` processes, each with
pools of 20, all through one PgBouncer in transaction pooling mode that opens at most 20 connections to PostgreSQL.

HTTP clients drive discovery flows through every server while auto-run sleeper flows, started through every
server, are run to completion by the two workers (one LISTENs on PostgreSQL directly, one polls). PostgreSQL's
``pg_stat_activity`` is sampled all along: it never shows more than 20 connections from PgBouncer, while PgBouncer
serves more clients than that. Afterwards nothing acknowledged is lost, each flow's version equals its number of
events, every auto-run flow completed on a worker, and the consistency auditor finds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.persistence.database import postgres_dsn
from domain.events import Tenant
from entrypoints.local_postgres import SERVER_USER, LocalPostgres, find_server_binaries, free_port
from tests.faults.environment import MfoServer, MfoWorker, audit_findings, changed_after_refusals, lost_writes
from tests.faults.load import Load, tenant_headers
from tests.faults.phases import statuses
from tests.pgbouncer import PgBouncer
from tests.plugin_example import sleeper as sleeper_type
from tests.support import eventually

pytestmark = pytest.mark.slow

SERVERS = 6
WORKERS = 2
SERVER_CONNECTIONS = 20
CLIENTS_PER_SERVER = 3
AUTO_RUN_FLOWS = 36
LOAD_SECONDS = 20
LISTENER = "mfo-runner-listen"  # the application_name of a runner's direct LISTEN connection (phase_runs.py)
OBSERVER = "test-observer"  # the application_name of this test's own direct connections
EVERY_PROCESS = {
    "MFO_DB_PGBOUNCER": "true",
    "MFO_DB_POOL_SIZE": "10",
    "MFO_DB_MAX_OVERFLOW": "10",  # a pool of 20 per database role and process
    "MFO_CREWAI_FLOW_TYPES": "",  # spares each process importing CrewAI; the auditor is told the same
    "MFO_WORKER_LEASE_SECONDS": "5",
    "MFO_WORKER_HEARTBEAT_SECONDS": "1",
    "MFO_WORKER_POLL_SECONDS": "0.3",
    "MFO_LOG_LEVEL": "WARNING",
}


@pytest.fixture
def bouncer(cluster: LocalPostgres, workdir: Path) -> Iterator[PgBouncer]:
    assert cluster.port is not None
    bouncer = PgBouncer(
        workdir / "pgbouncer", cluster.port, max_db_connections=SERVER_CONNECTIONS, pool_size=SERVER_CONNECTIONS
    )
    bouncer.start()
    yield bouncer
    bouncer.destroy()


class Sampler:
    """PostgreSQL's client connections other than the runners' direct LISTEN connections and the test's own (so: the
    ones PgBouncer opened), those LISTEN connections, and PgBouncer's client connections, sampled until stopped."""

    def __init__(self, direct_url: str, bouncer: PgBouncer) -> None:
        self._url = direct_url
        self._bouncer = bouncer
        self.server_connections: list[int] = []
        self.listeners: list[int] = []
        self.bouncer_clients: list[int] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        connection = await asyncpg.connect(postgres_dsn(self._url), server_settings={"application_name": OBSERVER})
        try:
            while not self._stop.is_set():
                counted = await connection.fetchrow(
                    "SELECT count(*) FILTER (WHERE application_name <> ALL($1::text[])) AS bounced,"
                    " count(*) FILTER (WHERE application_name = $2) AS listening"
                    " FROM pg_stat_activity WHERE backend_type = 'client backend'",
                    [LISTENER, OBSERVER],
                    LISTENER,
                )
                self.server_connections.append(counted["bounced"])
                self.listeners.append(counted["listening"])
                if len(self.server_connections) % 10 == 0:
                    self.bouncer_clients.append(await asyncio.to_thread(self._bouncer_clients))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 0.1)  # the sampling interval
        finally:
            await connection.close()

    def stop(self) -> None:
        self._stop.set()

    def _bouncer_clients(self) -> int:
        """``SHOW CLIENTS`` on PgBouncer's admin console (psql: the console speaks only the simple protocol),
        less psql's own connection."""
        psql = find_server_binaries() / "psql"
        shown = subprocess.run(
            [
                *(str(psql if psql.exists() else shutil.which("psql")), "-h", "127.0.0.1"),
                *("-p", str(self._bouncer.port), "-U", SERVER_USER, "-d", "pgbouncer", "-tAc", "SHOW CLIENTS"),
            ],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert shown.returncode == 0, shown.stderr
        return len([line for line in shown.stdout.splitlines() if line.strip()]) - 1


async def test_six_servers_and_two_workers_share_twenty_server_connections_through_pgbouncer(  # type: ignore[no-untyped-def]
    cluster: LocalPostgres, bouncer: PgBouncer, sleeper: dict[str, str], workdir: Path, monkeypatch
) -> None:
    assert cluster.port is not None
    direct = cluster.url(cluster.port)
    through = bouncer.url(SERVER_USER, cluster.database)
    env = {**EVERY_PROCESS, **sleeper}
    servers = [
        MfoServer(through, workdir / f"server-{n}.log", free_port(), MFO_WORKER_IN_SERVE="false", **env)
        for n in range(SERVERS)
    ]
    workers = [
        MfoWorker(through, workdir / "worker-listening.log", MFO_DB_LISTEN_URL=direct, **env),
        MfoWorker(through, workdir / "worker-polling.log", **env),
    ]
    processes = [*servers, *workers]
    sampler = Sampler(direct, bouncer)
    sampling = asyncio.create_task(sampler.run())
    loads = [Load(server.base_url, clients=CLIENTS_PER_SERVER) for server in servers]
    try:
        await asyncio.gather(*(process.start() for process in processes))
        for load in loads:
            load.start()
        auto_run = await _start_auto_run_flows(servers)
        started = time.monotonic()
        engine = observing(direct)
        try:
            await eventually(
                lambda: _all_completed(engine, auto_run),
                within=90,
                what="every auto-run flow completed by the workers",
                detail=lambda: "\n".join(w.log_tail(10) for w in workers),
            )
            await asyncio.sleep(max(0.0, LOAD_SECONDS - (time.monotonic() - started)))  # the load's length
        finally:
            await engine.dispose()
    finally:
        for load in loads:
            await load.stop()
        sampler.stop()
        await sampling
        for process in processes:
            process.stop()

    summaries = "\n".join(load.summary() for load in loads)
    for load, server in zip(loads, servers, strict=True):
        assert load.violations == [], "\n".join(load.violations[:20]) + "\n" + server.log_tail()
        assert load.ledger.acks >= 10, f"too little went through {server.base_url}: {load.summary()}"
    print(
        f"\nPostgreSQL saw at most {max(sampler.server_connections)} connections from PgBouncer "
        f"({len(sampler.server_connections)} samples); PgBouncer served up to {max(sampler.bouncer_clients)} clients\n"
        + summaries
    )
    assert max(sampler.server_connections) <= SERVER_CONNECTIONS
    assert max(sampler.server_connections) >= 5, "hardly any connection from PgBouncer: did the load go through?"
    assert max(sampler.bouncer_clients) > SERVER_CONNECTIONS, "no more clients than server connections"
    assert max(sampler.listeners) == 1, "the listening worker's LISTEN connection, straight to PostgreSQL"
    for process in processes:
        assert "prepared statement" not in process.log(), process.log_tail()

    owners = await _auto_run_attempt_owners(direct, auto_run)
    assert owners <= {w.owner for w in workers}, owners  # the servers claim nothing due (MFO_WORKER_IN_SERVE)
    for load in loads:
        assert await lost_writes(direct, load.ledger) == []
        assert await changed_after_refusals(direct, load.unchanged) == []
    assert await _versions_not_matching_events(direct) == []
    monkeypatch.setenv("MFO_CREWAI_FLOW_TYPES", "")  # the auditor checks what the processes bridged: nothing
    assert await audit_findings(direct, (sleeper_type.register(),)) == []


def observing(url: str) -> AsyncEngine:
    """An engine for the test's own reads, straight to PostgreSQL, named so the sampler does not count it."""
    return create_async_engine(url, pool_size=1, connect_args={"server_settings": {"application_name": OBSERVER}})


async def _start_auto_run_flows(servers: list[MfoServer]) -> list[str]:
    """``AUTO_RUN_FLOWS`` sleeper flows of three tenants, created and started (``auto_run``) through every server."""
    tenants = [Tenant(uuid4(), uuid4()) for _ in range(3)]
    configuration = {"seconds": {"first": 0.3, "second": 0.3}}

    async def one(n: int) -> str:
        server, tenant = servers[n % len(servers)], tenants[n % len(tenants)]
        async with httpx.AsyncClient(base_url=server.base_url, headers=tenant_headers(tenant), timeout=20) as http:
            body = {"flow_type": "sleeper", "name": f"auto {n}", "configuration": configuration}
            created = await http.post("/api/v1/flows", json=body)
            assert created.status_code == 201, created.text
            flow_id = created.json()["flow_id"]
            started = await http.post(f"/api/v1/flows/{flow_id}/start", json={"auto_run": True})
            assert started.status_code == 200 and started.json()["auto_run"], started.text
            return str(flow_id)

    return list(await asyncio.gather(*(one(n) for n in range(AUTO_RUN_FLOWS))))


async def _all_completed(engine: AsyncEngine, flow_ids: list[str]) -> bool:
    return set((await statuses(engine, flow_ids)).values()) == {"completed"}


async def _auto_run_attempt_owners(url: str, flow_ids: list[str]) -> set[str]:
    engine = observing(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT DISTINCT owner FROM phase_attempts WHERE flow_id::text = ANY(:ids)"), {"ids": flow_ids}
            )
            return {owner for (owner,) in rows}
    finally:
        await engine.dispose()


async def _versions_not_matching_events(url: str) -> list[str]:
    """Flows whose version is not the number of their events, or whose newest event is not of that version."""
    engine = observing(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT f.flow_id::text, f.version, count(e.version), max(e.version) FROM flows f"
                    " LEFT JOIN flow_events e USING (client_account_id, engagement_id, flow_id)"
                    " GROUP BY f.flow_id, f.version"
                    " HAVING f.version <> count(e.version) OR f.version IS DISTINCT FROM max(e.version)"
                )
            )
            return [f"{flow_id}: v{version}, {n} events, newest v{newest}" for flow_id, version, n, newest in rows]
    finally:
        await engine.dispose()
