"""PostgreSQL stops answering without closing anything (every server process frozen with SIGSTOP, as in a stalled
host or a network partition), while clients create and drive flows, then carries on (SIGCONT). The server-side
timeouts cannot fire, so the client-side ones must: every request is answered within the bound, 503 with
Retry-After (and /health says the database is down); afterwards the service recovers by itself and nothing
acknowledged is lost."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import httpx
import pytest

from entrypoints.local_postgres import LocalPostgres
from tests.faults.environment import audit_findings, changed_after_refusals, lost_writes
from tests.faults.load import Load
from tests.support import eventually

pytestmark = pytest.mark.slow


def server_processes(cluster: LocalPostgres) -> list[int]:
    """The cluster's postmaster and its children (backends, checkpointer, ...): processes this test started."""
    postmaster = int((cluster.data_dir / "postmaster.pid").read_text().splitlines()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            children.append(int(stat.parent.name))
    return [postmaster, *children]


def signal_all(pids: list[int], signum: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


async def test_postgres_stops_answering_under_load(cluster: LocalPostgres, serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(MFO_DB_COMMAND_TIMEOUT="2", MFO_DB_CONNECT_TIMEOUT="2", MFO_DB_POOL_TIMEOUT="2")
    await server.start()
    load = Load(server.base_url, timeout_seconds=10)
    load.start()
    frozen: list[int] = []
    try:
        await eventually(
            lambda: load.ledger.acks >= 30, within=20, what="acknowledged writes before the freeze", detail=load.summary
        )
        frozen = server_processes(cluster)
        signal_all(frozen, signal.SIGSTOP)
        refused_before = load.count(503)
        await eventually(
            lambda: load.count(503) >= refused_before + 8, within=30, what="503s while frozen", detail=load.summary
        )
        async with httpx.AsyncClient(base_url=server.base_url, timeout=load.timeout_seconds) as http:
            health = await http.get("/health")
        assert health.status_code == 503 and health.headers["retry-after"].isdigit(), health.text
        signal_all(frozen, signal.SIGCONT)
        frozen = []
        acks_after = load.ledger.acks
        await eventually(
            lambda: load.ledger.acks >= acks_after + 30, within=30, what="writes after the freeze", detail=load.summary
        )
    finally:
        signal_all(frozen, signal.SIGCONT)
        await load.stop()

    assert load.violations == [], "\n".join(load.violations[:20]) + "\n" + server.log_tail()
    assert load.slowest < load.timeout_seconds
    url = cluster.url(cluster.port or 0)
    assert await lost_writes(url, load.ledger) == []
    assert await changed_after_refusals(url, load.unchanged) == []
    assert await audit_findings(url) == []
