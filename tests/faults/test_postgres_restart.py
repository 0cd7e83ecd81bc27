"""PostgreSQL goes down (immediate shutdown, as in a crash) while clients create and drive flows, then comes back
on the same port. During the outage every request is answered quickly with 503, Retry-After and problem+json, and
/health says the database is down; afterwards the service recovers by itself and nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from entrypoints.local_postgres import LocalPostgres
from tests.faults.environment import audit_findings, changed_after_refusals, lost_writes
from tests.faults.load import Load
from tests.support import eventually

pytestmark = pytest.mark.slow


async def test_postgres_restart_under_load(cluster: LocalPostgres, serve) -> None:  # type: ignore[no-untyped-def]
    server = serve()
    await server.start()
    load = Load(server.base_url)
    load.start()
    try:
        await eventually(
            lambda: load.ledger.acks >= 30, within=20, what="acknowledged writes before the outage", detail=load.summary
        )

        await asyncio.to_thread(cluster.stop, "immediate")
        refused_before = load.count(503)
        await eventually(
            lambda: load.count(503) >= refused_before + 8, within=10, what="503s during the outage", detail=load.summary
        )
        async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as http:
            health = await http.get("/health")
        assert health.status_code == 503, health.text
        assert health.headers["retry-after"].isdigit()
        assert health.json()["status"] == "unavailable"

        await asyncio.to_thread(cluster.ensure_running)
        back = time.monotonic()
        await eventually(
            lambda: load.ledger.last_ack_at > back,
            within=20,
            what="the first write after the restart",
            detail=load.summary,
        )
        recovery = time.monotonic() - back
        acks_after = load.ledger.acks
        await eventually(
            lambda: load.ledger.acks >= acks_after + 30, within=20, what="writes after recovery", detail=load.summary
        )
        async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as http:
            assert (await http.get("/health")).status_code == 200
    finally:
        await load.stop()

    assert load.violations == [], "\n".join(load.violations[:20]) + "\n" + server.log_tail()
    assert load.count(503, "storage-unavailable") >= 8, load.problems
    assert load.slowest < load.timeout_seconds
    assert await lost_writes(cluster.url(cluster.port or 0), load.ledger) == []
    assert await changed_after_refusals(cluster.url(cluster.port or 0), load.unchanged) == []
    assert await audit_findings(cluster.url(cluster.port or 0)) == []
    print(
        f"recovered {recovery:.2f} s after PostgreSQL was back; {load.ledger.acks} writes acknowledged; {load.problems}"
    )
