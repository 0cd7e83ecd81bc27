"""The API process is killed with SIGKILL while clients create and drive flows, then started again. Requests in
flight are cut off (their transactions die with their connections); connection errors are allowed only while the
process is down; nothing acknowledged is lost and every flow's stored views still agree. The phases it was running
are taken over by the new process's runner once their (short) leases expire: no lease or open attempt of the dead
process is left."""

from __future__ import annotations

import time

import pytest

from entrypoints.local_postgres import LocalPostgres
from tests.faults.environment import audit_findings, changed_after_refusals, left_by_process, lost_writes
from tests.faults.load import Load
from tests.support import eventually

pytestmark = pytest.mark.slow


async def test_api_process_killed_under_load(cluster: LocalPostgres, serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(MFO_WORKER_LEASE_SECONDS="3", MFO_WORKER_HEARTBEAT_SECONDS="0.5")
    await server.start()
    load = Load(server.base_url)
    load.start()
    try:
        await eventually(
            lambda: load.ledger.acks >= 30, within=20, what="acknowledged writes before the kill", detail=load.summary
        )
        load.api_going_down()
        killed = server.pid
        server.kill()
        await server.start()
        back = time.monotonic()
        load.api_up_again()
        await eventually(
            lambda: load.ledger.last_ack_at > back,
            within=10,
            what="the first write after the restart",
            detail=load.summary,
        )
        acks_after = load.ledger.acks
        await eventually(
            lambda: load.ledger.acks >= acks_after + 30, within=20, what="writes after the restart", detail=load.summary
        )
    finally:
        await load.stop()

    assert load.violations == [], "\n".join(load.violations[:20]) + "\n" + server.log_tail()
    assert load.transport_errors > 0  # the clients did see the process go
    url = cluster.url(cluster.port or 0)
    assert await lost_writes(url, load.ledger) == []
    await eventually(
        lambda: _nothing_left(url, killed), within=15, what="the dead process's phases taken over", detail=load.summary
    )
    assert await changed_after_refusals(url, load.unchanged) == []
    assert await audit_findings(url) == []


async def _nothing_left(url: str, pid: int) -> bool:
    left = await left_by_process(url, pid)
    assert left == [], left  # not yet: eventually's message shows what was left last
    return True
