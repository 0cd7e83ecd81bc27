"""FlowEventLog: appended events come back oldest first after a version, up to a limit, to their tenant only; a
version a flow already has is refused. The same tests on the fake and on PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from domain.errors import ConcurrentModification
from domain.flow import Flow
from tests.contract.conftest import T0, Implementation


async def flow_with_history(implementation: Implementation) -> Flow:
    """A stored flow of five events: create, start, pause, resume, cancel."""
    flow = implementation.new_flow()
    flow.start(actor="contract", at=T0 + timedelta(seconds=1))
    flow.pause(actor="contract", at=T0 + timedelta(seconds=2))
    flow.resume(actor="other", at=T0 + timedelta(seconds=3))
    flow.cancel(actor="contract", at=T0 + timedelta(seconds=4))
    async with implementation.scoped() as uow:
        await uow.flows.add(flow)
        await uow.events.append(flow.pending_events)
        await uow.commit()
    return flow


async def test_events_come_back_oldest_first_after_a_version_up_to_a_limit(implementation: Implementation) -> None:
    flow = await flow_with_history(implementation)
    appended = flow.pending_events
    async with implementation.scoped() as uow:
        every = await uow.events.list(implementation.tenant, flow.flow_id, 0, 100)
        assert every == appended and [e.version for e in every] == [1, 2, 3, 4, 5]
        assert await uow.events.list(implementation.tenant, flow.flow_id, 2, 100) == appended[2:]
        assert await uow.events.list(implementation.tenant, flow.flow_id, 1, 2) == appended[1:3]
        assert await uow.events.list(implementation.tenant, flow.flow_id, 5, 100) == []
    assert Flow.replay(appended) == flow


async def test_another_tenant_sees_none_of_a_flows_events(implementation: Implementation) -> None:
    flow = await flow_with_history(implementation)
    other = implementation.other_tenant()
    async with implementation.scoped(other) as uow:
        assert await uow.events.list(other, flow.flow_id, 0, 100) == []
        assert await uow.events.list(implementation.tenant, flow.flow_id, 0, 100) == []  # not in its scope


async def test_events_appended_in_a_later_unit_of_work_follow_the_earlier_ones(implementation: Implementation) -> None:
    stored = await implementation.stored_flow()
    async with implementation.scoped() as uow:
        flow = await uow.flows.get_for_update(implementation.tenant, stored.flow_id)
        flow.start(actor="contract", at=T0 + timedelta(seconds=1))
        await uow.flows.save(flow)
        await uow.events.append(flow.pending_events)
        await uow.commit()
    async with implementation.scoped() as uow:
        events = await uow.events.list(implementation.tenant, stored.flow_id, 0, 100)
    assert [(e.version, e.operation) for e in events] == [(1, "create"), (2, "start")]


async def test_a_version_the_flow_already_has_is_refused(implementation: Implementation) -> None:
    flow = await flow_with_history(implementation)
    duplicate = dataclasses.replace(flow.pending_events[2], actor="someone else")
    # the fake refuses it at append, PostgreSQL's primary key at the statement: either way the unit of work ends so
    with pytest.raises(ConcurrentModification):
        async with implementation.scoped() as uow:
            await uow.events.append([duplicate])
            await uow.commit()
    async with implementation.scoped() as uow:
        assert await uow.events.list(implementation.tenant, flow.flow_id, 0, 100) == flow.pending_events
