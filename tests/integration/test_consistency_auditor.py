"""The auditor names every flow whose stored views disagree, over every tenant, in one query."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from domain.events import Tenant
from entrypoints.http.app import create_app
from tests.support import DISCOVERY_CSV, asgi_client, owner_engine_of, platform_headers

CORRUPTIONS = {
    "child status": ("UPDATE discovery_flows SET status = 'complete' WHERE flow_id = :id", "child status complete"),
    "child version": (
        "UPDATE discovery_flows SET master_version = 99 WHERE flow_id = :id",
        "child reflects version 99",
    ),
    "missing child": ("DELETE FROM discovery_flows WHERE flow_id = :id", "child record missing"),
    "crewai state": ("UPDATE crewai_flow_states SET status = 'paused' WHERE flow_id = :id", "CrewAI state status"),
    "missing crewai": ("DELETE FROM crewai_flow_states WHERE flow_id = :id", "CrewAI state missing"),
    "master status": ("UPDATE flows SET status = 'cancelled' WHERE flow_id = :id", "does not match master status"),
    "lost event": ("DELETE FROM flow_events WHERE flow_id = :id AND version = 2", "version 2 but 1 events"),
    "extra version": ("UPDATE flows SET version = 3 WHERE flow_id = :id", "version 3 but 2 events"),
}


async def audited(container) -> dict:  # type: ignore[no-untyped-def]
    report = await container.auditor().audit(limit=10_000)
    return {f.flow_id: f.problems for f in report.findings}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
async def test_a_corrupted_row_is_named(container, tenant: Tenant, corruption: str) -> None:
    mfo = container.orchestrator
    healthy = await mfo().create_flow(tenant, "discovery", "healthy", {"data": DISCOVERY_CSV}, actor="t")
    broken = await mfo().create_flow(tenant, "discovery", "broken", {"data": DISCOVERY_CSV}, actor="t")
    for flow in (healthy, broken):
        await mfo().start_flow(tenant, flow.flow_id, actor="t")
    assert broken.flow_id not in await audited(container)
    statement, problem = CORRUPTIONS[corruption]
    async with owner_engine_of(container).begin() as connection:
        await connection.execute(text(statement), {"id": broken.flow_id})
    findings = await audited(container)
    assert broken.flow_id in findings and healthy.flow_id not in findings
    assert any(problem in p for p in findings[broken.flow_id]), findings[broken.flow_id]
    async with owner_engine_of(container).begin() as connection:  # leave nothing inconsistent for the next test
        await connection.execute(text("DELETE FROM flow_events WHERE flow_id = :id"), {"id": broken.flow_id})
        for table in ("discovery_flows", "crewai_flow_states", "flows"):
            await connection.execute(text(f"DELETE FROM {table} WHERE flow_id = :id"), {"id": broken.flow_id})


async def test_the_http_route_and_the_cli_report_the_same(container, settings, tenant: Tenant) -> None:
    async with owner_engine_of(container).begin() as connection:  # the auditor checks the whole database
        await connection.execute(text("TRUNCATE flows CASCADE"))
    flow = await container.orchestrator().create_flow(tenant, "discovery", "x", {"data": DISCOVERY_CSV}, actor="t")
    async with asgi_client(create_app(settings, container)) as client:
        clean = (await client.get("/api/v1/admin/consistency", headers=platform_headers())).json()
    assert clean["consistent"] is True and clean["flows_checked"] >= 1
    env = {**os.environ, "MFO_DATABASE_URL": settings.database.url}
    ok = subprocess.run([sys.executable, "-m", "entrypoints.cli", "audit"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    async with owner_engine_of(container).begin() as connection:
        await connection.execute(
            text("UPDATE discovery_flows SET status = 'error' WHERE flow_id = :id"), {"id": flow.flow_id}
        )
    try:
        async with asgi_client(create_app(settings, container)) as client:
            report = (await client.get("/api/v1/admin/consistency", headers=platform_headers())).json()
        assert report["consistent"] is False
        assert [f["flow_id"] for f in report["findings"]] == [str(flow.flow_id)]
        failed = subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", "audit"], env=env, capture_output=True, text=True
        )
        assert failed.returncode == 1
        assert str(flow.flow_id) in failed.stdout and "child status error" in failed.stdout
    finally:
        async with owner_engine_of(container).begin() as connection:
            await connection.execute(
                text("UPDATE discovery_flows SET status = 'pending' WHERE flow_id = :id"), {"id": flow.flow_id}
            )
