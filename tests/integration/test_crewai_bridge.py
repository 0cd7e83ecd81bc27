"""The CrewAI bridge inside the orchestrator: one unit of work, one transaction, one store."""

from __future__ import annotations

import sys

import pytest
from dependency_injector import providers
from sqlalchemy import text

from adapters.crewai_bridge import CrewAIFlowTypeAdapter, crewai_adapter
from application.direct_adapter import DirectFlowTypeAdapter
from application.flow_type_registry import FlowTypeRegistry
from domain.events import Tenant
from domain.lifecycle import FlowStatus
from entrypoints.container import build_container, close_databases
from tests.support import DISCOVERY_CSV, Detonator, owner_engine_of, registry_with


async def stored_state(engine, flow_id) -> dict | None:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        row = (
            (
                await connection.execute(
                    text("SELECT state_id, status, master_version, state FROM crewai_flow_states WHERE flow_id = :id"),
                    {"id": flow_id},
                )
            )
            .mappings()
            .one_or_none()
        )
    return dict(row) if row else None


async def test_the_delegation_chain_shares_the_requests_unit_of_work(container) -> None:
    mfo = container.orchestrator()
    bridge = mfo.get_flow_service("discovery")
    assert isinstance(bridge, CrewAIFlowTypeAdapter)
    assert isinstance(bridge.inner, DirectFlowTypeAdapter)
    assert bridge.unit_of_work is mfo.unit_of_work is bridge.inner.unit_of_work


async def test_crewai_state_is_stored_with_every_change_and_events_are_captured(container, tenant: Tenant) -> None:
    mfo = container.orchestrator
    engine = owner_engine_of(container)
    flow = await mfo().create_flow(tenant, "discovery", "dc", {"data": DISCOVERY_CSV}, actor="t")
    first = await stored_state(engine, flow.flow_id)
    assert first is not None and (first["status"], first["master_version"]) == ("initialized", 1)
    await mfo().start_flow(tenant, flow.flow_id, actor="t")
    await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    waiting = await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    state = await stored_state(engine, flow.flow_id)
    assert state["state_id"] == first["state_id"] == state["state"]["id"]
    assert (state["status"], state["master_version"]) == ("waiting_for_input", waiting.version)
    assert state["state"]["waiting_for"] == "field_mapping"
    assert state["state"]["completed_phases"] == ["data_import"]
    assert state["state"]["kickoffs"] == 2
    events = await mfo().get_flow_events(tenant, flow.flow_id)
    trace = events[-1].data["trace"]
    methods = [e.get("method") for e in trace["crewai"]["events"] if e["type"] == "method_execution_started"]
    assert methods == ["dispatch", "run_field_mapping", "after_run_field_mapping", "await_input"]
    assert trace["crewai"]["state_id"] == state["state_id"]
    timings = trace["timings_ms"]
    assert timings["orchestrator"] >= timings["bridge"] >= timings["adapter"] >= 0
    await mfo().pause_flow(tenant, flow.flow_id, actor="t")  # no kickoff, but the stored state follows
    paused = await stored_state(engine, flow.flow_id)
    assert (paused["status"], paused["master_version"]) == ("paused", waiting.version + 1)
    view = await mfo().get_flow_status(tenant, flow.flow_id)
    assert view.in_sync and view.child.mirrors["crewai"]["status"] == "paused"


async def test_a_failing_phase_inside_crewai_rolls_back_its_state_too(
    container, tenant: Tenant, detonator: Detonator
) -> None:
    container.flow_types.override(providers.Object(registry_with(detonator, bridged=True)))
    try:
        mfo = container.orchestrator
        flow = await mfo().create_flow(tenant, "discovery", "dc", {"data": DISCOVERY_CSV}, actor="t")
        await mfo().start_flow(tenant, flow.flow_id, actor="t")
        before = await stored_state(owner_engine_of(container), flow.flow_id)
        detonator.armed = True
        with pytest.raises(RuntimeError):
            await mfo().execute_phase(tenant, flow.flow_id, actor="t")
        assert await stored_state(owner_engine_of(container), flow.flow_id) == before
    finally:
        container.flow_types.reset_override()


async def test_a_restarted_server_continues_where_the_flow_stopped(settings, tenant: Tenant) -> None:
    before_restart = build_container(settings)
    mfo = before_restart.orchestrator
    flow = await mfo().create_flow(tenant, "discovery", "dc", {"data": DISCOVERY_CSV}, actor="t")
    await mfo().start_flow(tenant, flow.flow_id, actor="t")
    await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    state = await stored_state(owner_engine_of(before_restart), flow.flow_id)
    await close_databases(before_restart)

    after_restart = build_container(settings)
    try:
        resumed = await after_restart.orchestrator().submit_input(
            tenant, flow.flow_id, {"approved": True, "mappings": {}}, actor="t"
        )
        assert (resumed.status, resumed.current_phase) == (FlowStatus.RUNNING, "data_cleansing")
        later = await stored_state(owner_engine_of(after_restart), flow.flow_id)
        assert later["state_id"] == state["state_id"]
        assert later["state"]["kickoffs"] == state["state"]["kickoffs"] + 1
        assert later["state"]["completed_phases"] == ["data_import", "field_mapping"]
    finally:
        await close_databases(after_restart)


async def test_crewai_prints_nothing_and_calls_nobody(container, tenant: Tenant, capfd) -> None:  # type: ignore[no-untyped-def]
    remote: list[object] = []

    def audit(event: str, args: tuple) -> None:
        if event == "socket.connect" and recording:
            address = args[1]
            if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
                remote.append(address)

    recording = True
    sys.addaudithook(audit)
    try:
        mfo = container.orchestrator
        capfd.readouterr()
        flow = await mfo().create_flow(tenant, "discovery", "quiet", {"data": DISCOVERY_CSV}, actor="t")
        await mfo().start_flow(tenant, flow.flow_id, actor="t")
        await mfo().execute_phase(tenant, flow.flow_id, actor="t")
        await mfo().execute_phase(tenant, flow.flow_id, actor="t")
        out, err = capfd.readouterr()
    finally:
        recording = False
    assert (out, err) == ("", "")
    assert remote == []


def test_the_bridge_keeps_the_definition_and_replaces_only_the_adapter(container) -> None:
    from adapters.flow_types.discovery import register

    plain = FlowTypeRegistry([register()])
    bridged = plain.with_bridge(lambda definition, direct: crewai_adapter(definition, direct), lambda name: True)
    assert bridged.get("discovery") is plain.get("discovery")
    uow = container.unit_of_work()
    assert isinstance(bridged.adapter_for("discovery", uow), CrewAIFlowTypeAdapter)
    assert isinstance(plain.adapter_for("discovery", uow), DirectFlowTypeAdapter)
