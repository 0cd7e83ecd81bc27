"""The auditor names every flow whose stored views disagree, over every tenant, in one query. The module runs on a
database of its own (it corrupts rows on purpose); the test that needs a whole consistent database gets an empty one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from domain.events import Tenant
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support import (
    DISCOVERY_CSV,
    asgi_client,
    container_on,
    database_of_its_own,
    own_database,
    owner_engine_of,
    platform_headers,
)

settings, container = database_of_its_own("mfo_auditor")

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


@pytest.fixture
async def empty(settings) -> AsyncIterator[tuple[Settings, Container]]:  # type: ignore[no-untyped-def]
    """A database of this test's own, empty: the auditor checks the whole database."""
    async with own_database(settings, "mfo_audit_empty") as mine, container_on(mine) as container:
        yield mine, container


async def test_the_http_route_and_the_cli_report_the_same(empty, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    settings, container = empty
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
    async with asgi_client(create_app(settings, container)) as client:
        report = (await client.get("/api/v1/admin/consistency", headers=platform_headers())).json()
    assert report["consistent"] is False
    assert [f["flow_id"] for f in report["findings"]] == [str(flow.flow_id)]
    failed = subprocess.run([sys.executable, "-m", "entrypoints.cli", "audit"], env=env, capture_output=True, text=True)
    assert failed.returncode == 1
    assert str(flow.flow_id) in failed.stdout and "child status error" in failed.stdout
