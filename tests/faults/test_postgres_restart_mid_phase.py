"""PostgreSQL stops (immediate shutdown, as in a crash) while phases run outside any transaction, and starts again
on the same port. The phases end during the outage; their runner cannot record the outcomes, and tries again until
the database is back: every phase completes, once, in the attempt that ran it. Meanwhile clients create and drive
flows, as in test_postgres_restart.py: every answer is a 2xx, a 409 or a 503 with Retry-After, and nothing
acknowledged is lost. Sleeper flows of a tenant of their own carry the phases: half run on their own (auto-run:
the server's runner claims them), half claimed by ``execute`` (202, the claim)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from domain.auth import Role
from domain.events import Tenant
from entrypoints.local_postgres import LocalPostgres
from tests.faults.environment import audit_findings, changed_after_refusals, lost_writes
from tests.faults.load import SUBJECT, Ledger, Load
from tests.faults.phases import sleeper_log, stored
from tests.plugin_example import sleeper as sleeper_type
from tests.support import auth_headers, eventually

pytestmark = pytest.mark.slow

AUTO_RUN = 5
EXECUTED = 5
PHASE_SECONDS = 3  # long enough to be running when PostgreSQL stops, short enough to end during the outage
RUNNER = {"MFO_WORKER_POLL_SECONDS": "0.2", "MFO_WORKER_TENANT_LIMIT": str(AUTO_RUN + EXECUTED)}


async def test_phases_that_end_while_postgres_is_down_complete_once_it_is_back(  # type: ignore[no-untyped-def]
    cluster: LocalPostgres, serve, sleeper: dict[str, str], workdir: Path
) -> None:
    url = cluster.url(cluster.port or 0)
    server = serve(**RUNNER, **sleeper)
    await server.start()
    log = workdir / "attempts"
    log.mkdir()
    configuration = {"seconds": {"first": PHASE_SECONDS}, "attempts_log": str(log)}
    ledger = Ledger()  # the sleeper flows' acknowledged writes
    load = Load(server.base_url)
    load.start()
    tenant = Tenant(uuid4(), uuid4())
    # no Prefer: wait, so an execute answers with its claim (202) at once
    claims_only = auth_headers(tenant, Role.OPERATOR, subject=SUBJECT, Prefer="respond-async")
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=claims_only, timeout=10) as http:

            async def write(path: str, body: object, expected: int) -> dict:
                response = await http.post(path, json=body)
                assert response.status_code == expected, response.text
                ledger.record(response.json())
                return response.json()  # type: ignore[no-any-return]

            async def flow(n: int) -> str:
                body = {"flow_type": "sleeper", "name": f"sleeper {n}", "configuration": configuration}
                flow_id = (await write("/api/v1/flows", body, 201))["flow_id"]
                if n < AUTO_RUN:
                    await write(f"/api/v1/flows/{flow_id}/start", {"auto_run": True}, 200)
                else:
                    await write(f"/api/v1/flows/{flow_id}/start", None, 200)
                    claimed = await write(f"/api/v1/flows/{flow_id}/execute", None, 202)
                    assert claimed["running_phase"]["phase"] == "first", claimed
                return flow_id

            await eventually(
                lambda: load.ledger.acks >= 30, within=20, what="acknowledged writes first", detail=load.summary
            )
            flow_ids = list(await asyncio.gather(*(flow(n) for n in range(AUTO_RUN + EXECUTED))))

        def began() -> int:
            return sum(len(sleeper_log(log, f)) == 1 for f in flow_ids)

        await eventually(lambda: began() == len(flow_ids), within=15, what="every sleeper's phase running")
        await asyncio.to_thread(cluster.stop, "immediate")
        stopped_at = time.time()

        def ended() -> int:
            return sum(all(w.how == "ended" for w in sleeper_log(log, f)) for f in flow_ids)

        refused_before = load.count(503)
        await eventually(
            lambda: ended() == len(flow_ids) and load.count(503) >= refused_before + 8,
            within=PHASE_SECONDS + 10,
            what="every phase ended during the outage, and 503s",
            detail=lambda: f"{ended()} ended; {load.summary()}",
        )
        logged = {f: sleeper_log(log, f) for f in flow_ids}
        await asyncio.to_thread(cluster.ensure_running)
        back = time.time()
        engine = create_async_engine(url, pool_size=2)
        try:

            async def all_recorded() -> bool:
                flows = await stored(engine, flow_ids)
                return all(_done(flows[flow_id], flow_id in flow_ids[:AUTO_RUN]) for flow_id in flow_ids)

            await eventually(
                all_recorded, within=20, what="every phase completed once PostgreSQL was back", detail=load.summary
            )
            found = await stored(engine, flow_ids)
        finally:
            await engine.dispose()
        acks_after = load.ledger.acks
        await eventually(
            lambda: load.ledger.acks >= acks_after + 20, within=20, what="writes after recovery", detail=load.summary
        )
    finally:
        await load.stop()

    server_log = server.log()
    for flow_id in flow_ids:
        [worked] = [w for w in logged[flow_id] if w.phase == "first"]
        assert worked.ended is not None and stopped_at < worked.ended < back, (worked, stopped_at, back)
        attempts = found[flow_id]["attempts"]
        assert [(a.phase, a.attempt, a.result) for a in attempts][:1] == [("first", 1, "completed")], attempts
        assert all(a.result == "completed" and a.attempt == 1 for a in attempts), attempts  # no attempt lost
        first = attempts[0]
        assert first.run_id == worked.run_id
        assert first.ended_at.timestamp() > worked.ended  # type: ignore[union-attr]  # recorded after the outage
        assert f"completing run {first.run_id} failed" in server_log  # the runner tried while the database was away
        assert found[flow_id]["lease"] is None
        recorded = [(operation, actor) for operation, actor, _ in found[flow_id]["events"]]
        if flow_id in flow_ids[:AUTO_RUN]:  # the completion recorded once the database was back claimed the second
            ran = [("execute_phase", "worker"), ("complete_phase", "worker"), ("complete_phase", "worker")]
        else:  # claimed through the API: its completion is the claimant's
            ran = [("execute_phase", SUBJECT), ("complete_phase", SUBJECT)]
        assert recorded == [("create", SUBJECT), ("start", SUBJECT), *ran], recorded
    assert load.violations == [], "\n".join(load.violations[:20]) + "\n" + server.log_tail()
    assert load.count(503, "storage-unavailable") >= 8, load.problems
    assert await lost_writes(url, load.ledger) == []
    assert await lost_writes(url, ledger) == []
    assert await changed_after_refusals(url, load.unchanged) == []
    assert await audit_findings(url, (sleeper_type.register(),)) == []


def _done(flow: dict, auto_run: bool) -> bool:
    """An auto-run sleeper completed both its phases; an executed one completed its first (its second is pending)."""
    if auto_run:
        return flow["status"] == "completed"
    return flow["status"] == "running" and "first" in flow["phase_results"] and flow["lease"] is None
