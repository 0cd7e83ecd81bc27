"""ChildRecords and BridgeStates: a flow type's child row (the shared columns from the master flow, the type's own from
``ChildTable.project``) and the bridge's stored state round-trip, are read together, and the state follows the
master. The same tests on the fake and on PostgreSQL, on discovery's child table."""

from __future__ import annotations

from datetime import timedelta

from adapters.flow_types.discovery.child_record import DISCOVERY_FLOWS
from domain.flow import Flow
from domain.lifecycle import PhaseState
from domain.ports import ChildRecord
from domain.status_sync import child_status_for
from tests.contract.conftest import T0, Implementation


def expected(flow: Flow) -> ChildRecord:
    return ChildRecord(
        flow.flow_id,
        child_status_for(flow.status),
        flow.version,
        flow.progress_percent,
        details=dict(DISCOVERY_FLOWS.project(flow)),
    )


def with_two_phases_done(flow: Flow) -> Flow:
    """The flow as if its first two phases ran: what discovery's projection turns into its own columns."""
    flow.start(actor="contract", at=T0 + timedelta(seconds=1))
    for phase in flow.phases[:2]:
        phase.state = PhaseState.COMPLETED
    flow.phase_results = {"field_mapping": {"mappings": {"hostname": "name"}}, "asset_inventory": {"total": 7}}
    return flow


async def test_a_child_record_round_trips_with_the_projected_columns(implementation: Implementation) -> None:
    flow = await implementation.stored_flow()
    async with implementation.scoped() as uow:
        await uow.children.save(DISCOVERY_FLOWS, flow)
        await uow.commit()
    async with implementation.scoped() as uow:
        first = await uow.children.load(DISCOVERY_FLOWS, implementation.tenant, flow.flow_id)
    assert first == expected(flow)
    assert first.details["asset_count"] is None and first.details["data_import_completed"] is False

    async with implementation.scoped() as uow:
        flow = await uow.flows.get_for_update(implementation.tenant, flow.flow_id)
        with_two_phases_done(flow)
        await uow.flows.save(flow)
        await uow.children.save(DISCOVERY_FLOWS, flow)  # an update of the same row
        await uow.commit()
    async with implementation.scoped() as uow:
        second = await uow.children.load(DISCOVERY_FLOWS, implementation.tenant, flow.flow_id)
    assert second == expected(flow)
    assert (second.status, second.master_version, second.progress_percent) == ("in_progress", 2, flow.progress_percent)
    assert second.details["field_mappings"] == {"hostname": "name"} and second.details["asset_count"] == 7
    assert second.details["field_mapping_completed"] is True and second.details["data_cleansing_completed"] is False


async def test_a_missing_child_and_another_tenants_child_load_as_none(implementation: Implementation) -> None:
    other = implementation.other_tenant()
    theirs = await implementation.stored_flow(other)
    async with implementation.scoped(other) as uow:
        await uow.children.save(DISCOVERY_FLOWS, theirs)
        await uow.commit()
    ours = await implementation.stored_flow()
    async with implementation.scoped() as uow:
        assert await uow.children.load(DISCOVERY_FLOWS, implementation.tenant, ours.flow_id) is None
        assert await uow.children.load(DISCOVERY_FLOWS, implementation.tenant, theirs.flow_id) is None
        assert await uow.children.load(DISCOVERY_FLOWS, other, theirs.flow_id) is None, "outside the scope"
        assert await uow.children.load_with_bridge_state(DISCOVERY_FLOWS, other, theirs.flow_id) == (None, None)
        assert await uow.children.load_with_bridge_state(DISCOVERY_FLOWS, implementation.tenant, ours.flow_id) == (
            None,
            None,
        )


async def test_the_child_and_the_bridge_state_are_read_together(implementation: Implementation) -> None:
    flow = await implementation.stored_flow(started=True)
    state = {"id": f"state-{flow.flow_id}", "status": "running", "master_version": 2, "notes": {"kickoffs": 1}}
    async with implementation.scoped() as uow:
        await uow.children.save(DISCOVERY_FLOWS, flow)
        assert await uow.children.load_with_bridge_state(DISCOVERY_FLOWS, implementation.tenant, flow.flow_id) == (
            expected(flow),
            None,
        )
        await uow.bridge_states.save(flow, state)
        await uow.commit()
    async with implementation.scoped() as uow:
        child, stored = await uow.children.load_with_bridge_state(DISCOVERY_FLOWS, implementation.tenant, flow.flow_id)
    assert child == expected(flow) and stored == state


async def test_a_bridge_state_round_trips_and_follows_the_master(implementation: Implementation) -> None:
    flow = await implementation.stored_flow(started=True)
    state = {"id": f"state-{flow.flow_id}", "status": "running", "master_version": 2, "notes": {"kickoffs": 1}}
    async with implementation.scoped() as uow:
        assert await uow.bridge_states.load(implementation.tenant, flow.flow_id) is None
        assert await uow.bridge_states.follow(flow) is False, "no stored state: nothing to follow"
        assert await uow.bridge_states.load(implementation.tenant, flow.flow_id) is None
        await uow.bridge_states.save(flow, state)
        await uow.commit()
    async with implementation.scoped() as uow:
        assert await uow.bridge_states.load(implementation.tenant, flow.flow_id) == state
        flow = await uow.flows.get_for_update(implementation.tenant, flow.flow_id)
        flow.pause(actor="contract", at=T0 + timedelta(seconds=5))
        await uow.flows.save(flow)
        assert await uow.bridge_states.follow(flow) is True
        await uow.commit()
    async with implementation.scoped() as uow:
        followed = await uow.bridge_states.load(implementation.tenant, flow.flow_id)
    assert followed == {**state, "status": "paused", "master_version": 3}
    other = implementation.other_tenant()
    async with implementation.scoped(other) as uow:
        assert await uow.bridge_states.load(other, flow.flow_id) is None
        assert await uow.bridge_states.load(implementation.tenant, flow.flow_id) is None, "outside the scope"
        assert await uow.bridge_states.follow(flow) is False
