"""The auditor names every flow whose stored views disagree, over every tenant, in one query. The module runs on a
database of its own (it corrupts rows on purpose); the test that needs a whole consistent database gets an empty one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from domain.events import Tenant
from domain.flow import AttemptEnd
from domain.lifecycle import FlowStatus
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support import (
    DISCOVERY_CSV,
    DISCOVERY_INPUTS,
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


# -- phase runs, leases and run_due_at ------------------------------------------------------------------------------

OWNER = "audited-runner"


async def started(container: Container, tenant: Tenant, *, auto_run: bool = False, data: bool = True) -> UUID:
    mfo = container.orchestrator
    configuration = {"data": DISCOVERY_CSV} if data else {}
    flow = await mfo().create_flow(tenant, "discovery", "audited", configuration, actor="t")
    await mfo().start_flow(tenant, flow.flow_id, actor="t", auto_run=auto_run)
    return flow.flow_id


async def claimed(container: Container, tenant: Tenant, *, auto_run: bool = False) -> Any:
    """A started flow whose first phase is claimed and leased (its attempt in progress, never run here)."""
    flow_id = await started(container, tenant, auto_run=auto_run)
    return await container.phase_execution().claim_phase(tenant, flow_id, actor="t", owner=OWNER, lease_seconds=60)


async def running(container: Container, tenant: Tenant) -> UUID:
    return (await claimed(container, tenant)).flow.flow_id


async def auto_run_idle(container: Container, tenant: Tenant) -> UUID:
    """An auto-run flow no runner claimed: due since it started."""
    return await started(container, tenant, auto_run=True)


async def retrying(container: Container, tenant: Tenant) -> UUID:
    """A flow whose phase's first attempt failed: its next attempt due in an hour, no lease meanwhile."""
    claim = await claimed(container, tenant)
    later = datetime.now(UTC) + timedelta(hours=1)
    flow = await container.phase_execution().complete_run(claim, AttemptEnd.failed("it raised", later), actor="t")
    assert flow is not None and flow.run is not None and flow.run.retry_at == later
    return flow.flow_id


async def paused_auto_run(container: Container, tenant: Tenant) -> UUID:
    flow_id = await auto_run_idle(container, tenant)
    await container.orchestrator().pause_flow(tenant, flow_id, actor="t")
    return flow_id


async def ended(container: Container, tenant: Tenant, status: str) -> UUID:
    """A flow that ended in ``status``, through the orchestrator."""
    mfo = container.orchestrator
    if status == "failed":
        flow_id = await started(container, tenant, data=False)  # data_import finds nothing to import
        assert (await mfo().execute_phase(tenant, flow_id, actor="t")).status == FlowStatus.FAILED
        return flow_id
    flow_id = await started(container, tenant)
    if status == "completed":
        for _ in range(2):
            await mfo().execute_phase(tenant, flow_id, actor="t")
        await mfo().submit_input(tenant, flow_id, DISCOVERY_INPUTS["field_mapping"], actor="t")
        for _ in range(4):
            flow = await mfo().execute_phase(tenant, flow_id, actor="t")
        assert flow.status == FlowStatus.COMPLETED
    elif status == "cancelled":
        await mfo().cancel_flow(tenant, flow_id, actor="t")
    else:
        await mfo().delete_flow(tenant, flow_id, actor="t")
    return flow_id


def ended_as(status: str) -> Callable[[Container, Tenant], Awaitable[UUID]]:
    async def setup(container: Container, tenant: Tenant) -> UUID:
        return await ended(container, tenant, status)

    return setup


GHOST_LEASE = (
    "INSERT INTO phase_leases (client_account_id, engagement_id, flow_id, run_id, owner, granted_at, expires_at)"
    " SELECT client_account_id, engagement_id, flow_id, gen_random_uuid(), 'ghost', now(), now() + interval '1 minute'"
    " FROM flows WHERE flow_id = :id"
)
RUN_CORRUPTIONS: dict[str, tuple[Callable[[Container, Tenant], Awaitable[UUID]], str, str]] = {
    "lease missing": (running, "DELETE FROM phase_leases WHERE flow_id = :id", "is in progress but holds no lease"),
    "lease of another run": (
        running,
        "UPDATE phase_leases SET run_id = gen_random_uuid() WHERE flow_id = :id",
        "but the flow runs",
    ),
    "phase run of another attempt": (
        running,
        "UPDATE flows SET phase_run = jsonb_set(phase_run, '{run_id}', to_jsonb(gen_random_uuid()::text))"
        " WHERE flow_id = :id",
        "but the flow runs",
    ),
    "orphan lease": (started, GHOST_LEASE, "without an attempt in progress"),
    "lease between attempts": (retrying, GHOST_LEASE, "without an attempt in progress"),
    **{
        f"{status} flow's lease": (ended_as(status), GHOST_LEASE, f"a {status} flow holds a lease")
        for status in ("completed", "failed", "cancelled", "deleted")
    },
    "due work not marked due": (
        auto_run_idle,
        "UPDATE flows SET run_due_at = NULL WHERE flow_id = :id",
        "run_due_at is not set, but its work is due at",
    ),
    "due without work": (started, "UPDATE flows SET run_due_at = now() WHERE flow_id = :id", "but no work is due"),
    "due while an attempt runs": (
        running,
        "UPDATE flows SET run_due_at = now() WHERE flow_id = :id",
        "but no work is due",
    ),
    "due while paused": (paused_auto_run, "UPDATE flows SET run_due_at = now() WHERE flow_id = :id", "no work is due"),
    "due at another time than the retry": (
        retrying,
        "UPDATE flows SET run_due_at = run_due_at + interval '1 minute' WHERE flow_id = :id",
        "but its work is due at",
    ),
}


@pytest.mark.parametrize("corruption", sorted(RUN_CORRUPTIONS))
async def test_a_phase_run_a_lease_or_a_due_time_out_of_step_is_named(
    container: Container, tenant: Tenant, corruption: str
) -> None:
    setup, statement, problem = RUN_CORRUPTIONS[corruption]
    healthy, broken = await setup(container, tenant), await setup(container, tenant)
    assert broken not in await audited(container)
    async with owner_engine_of(container).begin() as connection:
        await connection.execute(text(statement), {"id": broken})
    for report in (
        await container.auditor().audit(limit=10_000),
        await container.auditor().audit(limit=10_000, tenant=tenant),  # the tenant's own audit finds it too
    ):
        findings = {f.flow_id: f.problems for f in report.findings}
        assert broken in findings and healthy not in findings
        [named] = findings[broken]  # that problem, and no other
        assert problem in named, named


async def test_every_legal_phase_run_and_lease_passes_the_audit(empty, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    """On a database of its own: flows in every state a phase run can leave them in, and no finding."""
    _, container = empty
    mfo = container.orchestrator
    expired = await claimed(container, tenant)
    async with owner_engine_of(container).begin() as connection:  # a lease may be expired: its takeover is due
        await connection.execute(
            text("UPDATE phase_leases SET expires_at = now() - interval '1 hour' WHERE flow_id = :id"),
            {"id": expired.flow.flow_id},
        )
    paused_while_running = await claimed(container, tenant)
    await mfo().pause_flow(tenant, paused_while_running.flow.flow_id, actor="t")  # the attempt runs on
    cancelled_while_running = await claimed(container, tenant)
    await mfo().cancel_flow(tenant, cancelled_while_running.flow.flow_id, actor="t")  # its lease revoked
    late = await container.phase_execution().complete_run(  # and its late completion discarded
        cancelled_while_running, AttemptEnd.failed("too late", None), actor="t"
    )
    assert late is None
    waiting = await started(container, tenant)
    for _ in range(2):
        await mfo().execute_phase(tenant, waiting, actor="t")
    flows = [
        await started(container, tenant),
        await running(container, tenant),
        (await claimed(container, tenant, auto_run=True)).flow.flow_id,
        await auto_run_idle(container, tenant),
        await retrying(container, tenant),
        await paused_auto_run(container, tenant),
        *[await ended(container, tenant, status) for status in ("completed", "failed", "cancelled", "deleted")],
        expired.flow.flow_id,
        paused_while_running.flow.flow_id,
        cancelled_while_running.flow.flow_id,
        waiting,
    ]
    async with owner_engine_of(container).connect() as connection:
        leases = await connection.scalar(text("SELECT count(*) FROM phase_leases"))
        due = await connection.scalar(text("SELECT count(*) FROM flows WHERE run_due_at IS NOT NULL"))
    assert (leases, due) == (4, 2)  # four attempts in progress (one expired, one paused); an idle flow, a retry
    report = await container.auditor().audit(limit=10_000)
    assert report.findings == [] and report.inconsistent == 0
    assert report.flows_checked == len(flows)
    mine = await container.auditor().audit(limit=10_000, tenant=tenant)
    assert mine.findings == [] and mine.flows_checked == len(flows)


# -- every mirrored field, and the recorded contract rather than the setting ----------------------------------------


async def flow_past_field_mapping(container, tenant: Tenant) -> UUID:  # type: ignore[no-untyped-def]
    """A bridged discovery flow with data_import, field_mapping and data_cleansing completed."""
    mfo = container.orchestrator
    flow = await mfo().create_flow(tenant, "discovery", "mirrored", {"data": DISCOVERY_CSV}, actor="t")
    await mfo().start_flow(tenant, flow.flow_id, actor="t")
    await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    await mfo().submit_input(tenant, flow.flow_id, DISCOVERY_INPUTS["field_mapping"], actor="t")
    done = await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    assert done.contract.bridged and [p.state for p in done.phases[:3]] == ["completed"] * 3
    return flow.flow_id


async def test_a_crewai_state_missing_a_completed_phase_is_reported(container, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    flow_id = await flow_past_field_mapping(container, tenant)
    assert flow_id not in await audited(container)
    status = await container.orchestrator().get_flow_status(tenant, flow_id)
    assert status.in_sync
    # what a fresh state written by a bridge that did not run data_import would list (the drift of issue 19)
    async with owner_engine_of(container).begin() as connection:
        await connection.execute(
            text(
                "UPDATE crewai_flow_states SET state = jsonb_set(state, '{completed_phases}',"
                ' \'["field_mapping", "data_cleansing"]\'::jsonb) WHERE flow_id = :id'
            ),
            {"id": flow_id},
        )
    findings = await audited(container)
    assert findings[flow_id] == (
        "CrewAI state lists completed phases [data_cleansing,field_mapping] and waits for no phase; the master has "
        "completed [data_cleansing,data_import,field_mapping] and waits for no phase",
    )
    assert not (await container.orchestrator().get_flow_status(tenant, flow_id)).in_sync


async def test_a_crewai_state_waiting_on_another_phase_or_a_child_with_wrong_progress_is_reported(
    container, tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    mfo = container.orchestrator
    waiting = await mfo().create_flow(tenant, "discovery", "waiting", {"data": DISCOVERY_CSV}, actor="t")
    await mfo().start_flow(tenant, waiting.flow_id, actor="t")
    await mfo().execute_phase(tenant, waiting.flow_id, actor="t")
    assert (await mfo().execute_phase(tenant, waiting.flow_id, actor="t")).status == FlowStatus.WAITING_FOR_INPUT
    progressed = await flow_past_field_mapping(container, tenant)
    assert not {waiting.flow_id, progressed} & set(await audited(container))
    async with owner_engine_of(container).begin() as connection:
        await connection.execute(
            text("UPDATE crewai_flow_states SET state = jsonb_set(state, '{waiting_for}', 'null') WHERE flow_id = :id"),
            {"id": waiting.flow_id},
        )
        await connection.execute(
            text("UPDATE discovery_flows SET progress_percent = 0 WHERE flow_id = :id"), {"id": progressed}
        )
    findings = await audited(container)
    assert findings[waiting.flow_id] == (
        "CrewAI state lists completed phases [data_import] and waits for no phase; the master has completed "
        "[data_import] and waits for field_mapping",
    )
    assert findings[progressed] == ("child progress is 0%, the master's phases give 50%",)


async def test_flows_created_without_the_bridge_are_consistent_for_an_auditor_whose_setting_has_it(
    settings: Settings, container, tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from entrypoints.settings import CrewAISettings

    without = dataclasses.replace(settings, crewai=CrewAISettings(flow_types=()))
    async with container_on(without) as plain:
        flow = await plain.orchestrator().create_flow(tenant, "discovery", "plain", {"data": DISCOVERY_CSV}, actor="t")
        await plain.orchestrator().start_flow(tenant, flow.flow_id, actor="t")
        done = await plain.orchestrator().execute_phase(tenant, flow.flow_id, actor="t")
        assert done.contract.bridged is False
        assert flow.flow_id not in await audited(plain)
    assert settings.crewai.bridges("discovery")
    assert flow.flow_id not in await audited(container)  # the recorded contract, not this auditor's setting
    # the flow keeps running without the bridge on a deployment with it: still no CrewAI state, still consistent
    await container.orchestrator().execute_phase(tenant, flow.flow_id, actor="t")
    async with owner_engine_of(container).connect() as connection:
        states = await connection.scalar(
            text("SELECT count(*) FROM crewai_flow_states WHERE flow_id = :id"), {"id": flow.flow_id}
        )
    assert states == 0 and flow.flow_id not in await audited(container)
    assert (await container.orchestrator().get_flow_status(tenant, flow.flow_id)).in_sync
