"""The orchestrator's queries on fakes: what each reads, for which tenant and type, with which defaults."""

from __future__ import annotations

from uuid import uuid4

import pytest

from application.flow_type_registry import FlowTypeRegistry
from application.orchestrator import MasterFlowOrchestrator
from domain.errors import FlowNotFound, UnknownFlowType
from domain.events import Tenant
from domain.lifecycle import FlowStatus
from domain.ports import FlowFilter
from tests.fakes import FakeClock, FakeUnitOfWork, fake_flow_type

TENANT = Tenant(uuid4(), uuid4())


def orchestrator() -> tuple[MasterFlowOrchestrator, FakeUnitOfWork]:
    uow = FakeUnitOfWork()
    registry = FlowTypeRegistry([fake_flow_type(), fake_flow_type(name="other")])
    return MasterFlowOrchestrator(uow, registry, FakeClock()), uow


async def test_get_flow_reads_the_stored_flow_in_the_tenants_scope() -> None:
    mfo, uow = orchestrator()
    flow = await mfo.create_flow(TENANT, "fake", "f", {"items": [1]}, actor="a")
    read = await mfo.get_flow(TENANT, flow.flow_id)
    assert read == flow and read.loaded_version == 1
    assert uow.scopes == [TENANT, TENANT]


async def test_the_status_shows_the_master_beside_its_child_record() -> None:
    mfo, uow = orchestrator()
    flow = await mfo.create_flow(TENANT, "other", "f", {"items": [1, 2]}, actor="a")
    await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    view = await mfo.get_flow_status(TENANT, flow.flow_id)
    assert (view.flow.flow_id, view.flow.status) == (flow.flow_id, FlowStatus.RUNNING)
    assert view.child is not None and (view.child.master_version, view.child.details) == (2, {"items": 2})
    assert view.child_projected_status == FlowStatus.RUNNING and view.in_sync
    assert uow.scopes[-1] == TENANT


async def test_the_status_of_a_flow_without_a_child_record_projects_nothing() -> None:
    mfo, uow = orchestrator()
    flow = await mfo.create_flow(TENANT, "fake", "f", {}, actor="a")
    del uow.committed_store.children[("fake_flows", TENANT, flow.flow_id)]
    view = await mfo.get_flow_status(TENANT, flow.flow_id)
    assert (view.child, view.child_projected_status) == (None, None)
    assert not view.in_sync


async def test_a_list_pages_by_fifty_unless_told_and_follows_its_cursor() -> None:
    mfo, _ = orchestrator()
    for index in range(51):
        await mfo.create_flow(TENANT, "fake", f"f{index}", {}, actor="a")
    first = await mfo.list_flows(TENANT, FlowFilter())
    assert len(first.items) == 50 and first.next_cursor is not None
    rest = await mfo.list_flows(TENANT, FlowFilter(), cursor=first.next_cursor)
    assert [f.name for f in rest.items] == ["f0"] and rest.next_cursor is None
    small = await mfo.list_flows(TENANT, FlowFilter(), limit=3)
    assert [f.name for f in small.items] == ["f50", "f49", "f48"]


async def test_a_list_filtered_by_type_names_a_registered_type() -> None:
    mfo, uow = orchestrator()
    mine = await mfo.create_flow(TENANT, "fake", "f", {}, actor="a")
    await mfo.create_flow(TENANT, "other", "o", {}, actor="a")
    page = await mfo.list_flows(TENANT, FlowFilter(flow_type="fake"))
    assert [f.flow_id for f in page.items] == [mine.flow_id]
    entered = uow.entered
    with pytest.raises(UnknownFlowType) as raised:
        await mfo.list_flows(TENANT, FlowFilter(flow_type="nope"))
    assert (raised.value.flow_type, raised.value.known) == ("nope", ["fake", "other"])
    assert uow.entered == entered  # refused before the unit of work


async def test_events_are_read_after_a_version_up_to_a_hundred_unless_told() -> None:
    mfo, _ = orchestrator()
    flow = await mfo.create_flow(TENANT, "fake", "f", {}, actor="a")
    await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    for _ in range(50):
        await mfo.pause_flow(TENANT, flow.flow_id, actor="a")
        await mfo.resume_flow(TENANT, flow.flow_id, actor="a")
    events = await mfo.get_flow_events(TENANT, flow.flow_id)
    assert [e.version for e in events] == list(range(1, 101))
    later = await mfo.get_flow_events(TENANT, flow.flow_id, after_version=100)
    assert [e.version for e in later] == [101, 102]
    some = await mfo.get_flow_events(TENANT, flow.flow_id, after_version=1, limit=2)
    assert [e.version for e in some] == [2, 3]


async def test_a_query_restricted_to_a_type_finds_only_its_flows() -> None:
    mfo, _ = orchestrator()
    flow = await mfo.create_flow(TENANT, "fake", "f", {}, actor="a")
    assert (await mfo.get_flow(TENANT, flow.flow_id, flow_type="fake")).flow_id == flow.flow_id
    assert (await mfo.get_flow_status(TENANT, flow.flow_id, flow_type="fake")).flow.flow_id == flow.flow_id
    assert [e.version for e in await mfo.get_flow_events(TENANT, flow.flow_id, flow_type="fake")] == [1]
    for query in (mfo.get_flow, mfo.get_flow_status, mfo.get_flow_events):
        with pytest.raises(FlowNotFound) as raised:
            await query(TENANT, flow.flow_id, flow_type="other")
        assert raised.value.flow_id == flow.flow_id
