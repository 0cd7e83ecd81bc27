"""An ``mfo worker`` is killed with SIGKILL while it runs fifty long phases at once (auto-run sleeper flows of five
tenants). A second worker polls all along: while the first renews its leases it takes none of them; once they
expire it ends each lost attempt as failed (its worker stopped) and runs the phase again, then the rest of the flow
(the completion of the first phase claims the second, in the same event). Nothing is lost (every flow completes),
no attempt ever overlaps another of the same phase (the sleeper logs when each began and ended its work, and in
which process; phase_attempts when each was granted and ended), phase_attempts says how each attempt ended, and the
consistency auditor finds nothing."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from domain.events import Tenant
from entrypoints.local_postgres import LocalPostgres
from tests.faults.environment import audit_findings
from tests.faults.load import tenant_headers
from tests.faults.phases import overlapping, sleeper_log, statuses, stored
from tests.plugin_example import sleeper as sleeper_type
from tests.support import eventually

pytestmark = pytest.mark.slow

TENANTS = 5
FLOWS_PER_TENANT = 10
DOOMED_SECONDS = 30  # the first attempts: far longer than the test lets them run
RESCUED_SECONDS = 3
LEASE_SECONDS = 3
RUNNERS = {
    "MFO_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
    "MFO_WORKER_HEARTBEAT_SECONDS": "0.5",
    "MFO_WORKER_POLL_SECONDS": "0.2",
    "MFO_WORKER_CONCURRENCY": str(TENANTS * FLOWS_PER_TENANT),
    "MFO_WORKER_TENANT_LIMIT": str(FLOWS_PER_TENANT),
    "MFO_CREWAI_FLOW_TYPES": "",  # no flow of a bridged type here: spares each process importing CrewAI
}
LEASE_EXPIRED = "phase 'first': its worker stopped renewing the lease (the lease expired)"


async def test_a_worker_killed_mid_phase_leaves_all_fifty_phases_to_another(  # type: ignore[no-untyped-def]
    cluster: LocalPostgres, serve, worker, sleeper: dict[str, str], workdir: Path
) -> None:
    server = serve(MFO_WORKER_IN_SERVE="false", **RUNNERS, **sleeper)  # the API claims nothing due: workers do
    doomed = worker(**RUNNERS, **sleeper)
    await asyncio.gather(server.start(), doomed.start())
    log = workdir / "attempts"
    log.mkdir()
    configuration = {
        "seconds": {"first": RESCUED_SECONDS},
        "first_attempt_seconds": {"first": DOOMED_SECONDS},
        "attempts_log": str(log),
    }
    tenants = [Tenant(uuid4(), uuid4()) for _ in range(TENANTS)]
    clients = [httpx.AsyncClient(base_url=server.base_url, headers=tenant_headers(t), timeout=20) for t in tenants]
    try:

        async def create(http: httpx.AsyncClient, n: int) -> tuple[httpx.AsyncClient, str]:
            body = {"flow_type": "sleeper", "name": f"long {n}", "configuration": configuration}
            created = await http.post("/api/v1/flows", json=body)
            assert created.status_code == 201, created.text
            return http, created.json()["flow_id"]

        flows = await asyncio.gather(*(create(http, n) for http in clients for n in range(FLOWS_PER_TENANT)))
        # started together, so that the first phases begin within a moment of each other on the one worker
        started = await asyncio.gather(
            *(http.post(f"/api/v1/flows/{flow_id}/start", json={"auto_run": True}) for http, flow_id in flows)
        )
        assert all(s.status_code == 200 and s.json()["auto_run"] for s in started), [s.text for s in started]
    finally:
        for http in clients:
            await http.aclose()
    flow_ids = [flow_id for _, flow_id in flows]

    def begun_on_the_doomed_worker() -> int:
        return sum(any(w.pid == doomed.pid for w in sleeper_log(log, f)) for f in flow_ids)

    await eventually(
        lambda: begun_on_the_doomed_worker() == len(flow_ids),
        within=30,
        what="every first phase running on the first worker",
        detail=lambda: f"{begun_on_the_doomed_worker()} begun\n{doomed.log_tail()}",
    )
    rescuer = worker(**RUNNERS, **sleeper)
    await rescuer.start()
    engine = create_async_engine(cluster.url(cluster.port or 0), pool_size=2)
    try:
        # The second worker polls while the first holds every lease, and must take none: a lease expiring after
        # since + 2 leases' length was renewed after since + 1, when one left unrenewed since then had expired.
        since = await _now(engine)

        async def all_renewed() -> bool:
            later = since + timedelta(seconds=2 * LEASE_SECONDS)
            return await _leases_expiring_after(engine, doomed.owner, later) == len(flow_ids)

        await eventually(
            all_renewed,
            within=20,
            what="every lease of the first worker renewed a lease's length after the second began polling",
            detail=doomed.log_tail,
        )
        assert await _attempts_of(engine, rescuer.owner) == 0
        doomed.kill()
        killed_at = time.time()
        logged = {f: sleeper_log(log, f) for f in flow_ids}
        assert all(w.ended is None for attempts in logged.values() for w in attempts), "a phase ended before the kill"
        await eventually(
            lambda: _all_completed(engine, flow_ids),
            within=45,
            what="every flow completed by the second worker",
            detail=rescuer.log_tail,
        )
        found = await stored(engine, flow_ids)
    finally:
        await engine.dispose()

    overlaps = []
    for flow_id in flow_ids:
        flow, attempts = found[flow_id], found[flow_id]["attempts"]
        assert flow["status"] == "completed"
        assert {p: r["pid"] for p, r in flow["phase_results"].items()} == {"first": rescuer.pid, "second": rescuer.pid}
        assert [(a.phase, a.attempt, a.owner, a.result) for a in attempts] == [
            ("first", 1, doomed.owner, "retrying"),
            ("first", 2, rescuer.owner, "completed"),
            ("second", 1, rescuer.owner, "completed"),
        ], attempts
        assert attempts[0].detail == LEASE_EXPIRED
        assert all(a.ended_at is not None for a in attempts)
        for earlier, later in itertools.pairwise(attempts):
            assert earlier.ended_at <= later.started_at, (earlier, later)  # type: ignore[operator]
        assert flow["lease"] is None
        assert [(operation, actor) for operation, actor, _ in flow["events"]] == [
            ("create", "fault-load"),
            ("start", "fault-load"),
            ("execute_phase", "worker"),  # the first worker's claim
            ("complete_phase", "worker"),  # the second worker: the lease expired, another attempt is due
            ("reattempt_phase", "worker"),
            ("complete_phase", "worker"),  # and straight on to the next phase, claimed in the same event
            ("complete_phase", "worker"),
        ]
        worked = sleeper_log(log, flow_id)
        assert [(w.phase, w.attempt, w.pid, w.how) for w in worked] == [
            ("first", 1, doomed.pid, None),  # killed mid-phase: it never said it ended
            ("first", 2, rescuer.pid, "ended"),
            ("second", 1, rescuer.pid, "ended"),
        ]
        assert [w.run_id for w in worked] == [a.run_id for a in attempts]
        overlaps += overlapping(worked, {doomed.pid: killed_at})
    assert overlaps == [], "\n".join(overlaps[:10])
    assert await audit_findings(cluster.url(cluster.port or 0), (sleeper_type.register(),)) == []


async def _all_completed(engine: AsyncEngine, flow_ids: list[str]) -> bool:
    return set((await statuses(engine, flow_ids)).values()) == {"completed"}


async def _now(engine: AsyncEngine) -> datetime:
    async with engine.connect() as connection:
        return (await connection.execute(text("SELECT now()"))).scalar_one()  # type: ignore[no-any-return]


async def _leases_expiring_after(engine: AsyncEngine, owner: str, at: datetime) -> int:
    async with engine.connect() as connection:
        query = "SELECT count(*) FROM phase_leases WHERE owner = :owner AND expires_at > :at"
        return int((await connection.execute(text(query), {"owner": owner, "at": at})).scalar_one())


async def _attempts_of(engine: AsyncEngine, owner: str) -> int:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT count(*) FROM phase_attempts WHERE owner = :owner"), {"owner": owner}
        )
        return int(rows.scalar_one())
