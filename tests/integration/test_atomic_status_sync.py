"""On real PostgreSQL: master, child and event commit together or not at all; writers serialize."""

from __future__ import annotations

import asyncio

import pytest
from dependency_injector import providers

from domain.errors import FlowNotFound, IllegalTransition, VersionConflict
from domain.events import Tenant
from domain.lifecycle import FlowStatus
from domain.ports import FlowFilter
from tests.support import DISCOVERY_CSV, Detonator, owner_engine_of, registry_with, snapshot


async def test_a_full_discovery_run_keeps_master_child_and_events_in_step(container, tenant: Tenant) -> None:
    mfo = container.orchestrator
    flow = await mfo().create_flow(tenant, "discovery", "dc", {"data": DISCOVERY_CSV}, actor="t")
    await mfo().start_flow(tenant, flow.flow_id, actor="t")
    await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    waiting = await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    assert waiting.status == FlowStatus.WAITING_FOR_INPUT
    await mfo().submit_input(tenant, flow.flow_id, {"approved": True, "mappings": {}}, actor="t")
    for _ in range(4):
        done = await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    assert done.status == FlowStatus.COMPLETED
    stored = await snapshot(owner_engine_of(container), flow.flow_id)
    (master,), (child,) = stored["master"], stored["child"]
    # create, start, an input, and six executed phases of two events each (the claim and the completion)
    executed = ["execute_phase", "complete_phase"]
    operations = ["create", "start", *executed * 2, "submit_input", *executed * 4]
    assert master["status"] == "completed" and master["version"] == len(operations) == 15
    assert (child["status"], child["master_version"], child["asset_count"]) == ("complete", 15, 3)
    assert [e["version"] for e in stored["events"]] == list(range(1, 16))
    assert [e["operation"] for e in stored["events"]] == operations
    assert master["phase_run"] is None and master["run_due_at"] is None
    view = await mfo().get_flow_status(tenant, flow.flow_id)
    assert view.in_sync


async def test_an_adapter_that_raises_mid_operation_rolls_everything_back(
    container, tenant: Tenant, detonator: Detonator
) -> None:
    container.flow_types.override(providers.Object(registry_with(detonator)))
    try:
        mfo = container.orchestrator
        flow = await mfo().create_flow(tenant, "discovery", "dc", {"data": DISCOVERY_CSV}, actor="t")
        await mfo().start_flow(tenant, flow.flow_id, actor="t")
        before = await snapshot(owner_engine_of(container), flow.flow_id)
        detonator.armed = True
        with pytest.raises(RuntimeError, match="after writing its child row"):
            await mfo().execute_phase(tenant, flow.flow_id, actor="t")
        with pytest.raises(RuntimeError):
            await mfo().pause_flow(tenant, flow.flow_id, actor="t")
        after = await snapshot(owner_engine_of(container), flow.flow_id)
        assert after == before
        assert before["master"][0]["status"] == "running" and len(before["events"]) == 2
    finally:
        container.flow_types.reset_override()


async def test_two_concurrent_conflicting_transitions_exactly_one_wins(container, tenant: Tenant) -> None:
    mfo = container.orchestrator
    flow = await mfo().create_flow(tenant, "discovery", "race", {"data": DISCOVERY_CSV}, actor="t")
    await mfo().start_flow(tenant, flow.flow_id, actor="t")
    for _ in range(5):
        results = await asyncio.gather(
            mfo().pause_flow(tenant, flow.flow_id, actor="a"),
            mfo().pause_flow(tenant, flow.flow_id, actor="b"),
            return_exceptions=True,
        )
        assert sum(not isinstance(r, Exception) for r in results) == 1
        assert sum(isinstance(r, IllegalTransition) for r in results) == 1
        await mfo().resume_flow(tenant, flow.flow_id, actor="t")
    stored = await snapshot(owner_engine_of(container), flow.flow_id)
    assert stored["master"][0]["version"] == len(stored["events"]) == 12


async def test_concurrent_writers_with_the_same_if_match_lose_nothing(container, tenant: Tenant) -> None:
    mfo = container.orchestrator
    flow = await mfo().create_flow(tenant, "discovery", "race", {"data": DISCOVERY_CSV}, actor="t")
    results = await asyncio.gather(
        mfo().start_flow(tenant, flow.flow_id, actor="a", expected_version=1),
        mfo().cancel_flow(tenant, flow.flow_id, actor="b", expected_version=1),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, VersionConflict) for r in results if isinstance(r, Exception))
    stored = await snapshot(owner_engine_of(container), flow.flow_id)
    assert stored["master"][0]["version"] == 2 == len(stored["events"])
    assert stored["master"][0]["status"] == str(winners[0].status)


async def test_another_tenant_sees_nothing(container, tenant: Tenant, other_tenant: Tenant) -> None:
    mfo = container.orchestrator
    flow = await mfo().create_flow(tenant, "discovery", "mine", {}, actor="t")
    for attempt in (
        mfo().get_flow(other_tenant, flow.flow_id),
        mfo().get_flow_status(other_tenant, flow.flow_id),
        mfo().get_flow_events(other_tenant, flow.flow_id),
        mfo().start_flow(other_tenant, flow.flow_id, actor="x"),
        mfo().delete_flow(other_tenant, flow.flow_id, actor="x"),
    ):
        with pytest.raises(FlowNotFound):
            await attempt
    assert (await mfo().list_flows(other_tenant, FlowFilter())).items == []
    assert [f.flow_id for f in (await mfo().list_flows(tenant, FlowFilter())).items] == [flow.flow_id]
    same_account = Tenant(tenant.client_account_id, other_tenant.engagement_id)
    with pytest.raises(FlowNotFound):
        await mfo().get_flow(same_account, flow.flow_id)
