"""Several versions of one flow type at once, on fakes: new flows get the newest, every flow runs on the version and
the engine its contract recorded, start-up refuses to lose a version flows still use, and flows migrate (one at a
time or in bulk, with a dry run) under the declared mapping."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from application.flow_type_registry import AdapterFactory, FlowTypeRegistry
from application.migrations import MigrationSelection
from application.orchestrator import MasterFlowOrchestrator
from domain.errors import FlowTypeRegistrationError, MigrationRefused, UnknownFlowTypeVersion
from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import FlowTypeDefinition
from domain.lifecycle import FlowStatus, Operation, PhaseState
from domain.ports import UnitOfWork
from tests.fakes import FakeClock, FakeUnitOfWork, Store, another_version, fake_flow_type

TENANT = Tenant(uuid4(), uuid4())
V1 = fake_flow_type()
V2 = another_version(V1)  # collect, review, publish, archive


class Tagged:
    """An adapter that says which engine built it, delegating to the type's own."""

    def __init__(self, tag: str, inner: Any) -> None:
        self.tag, self.inner = tag, inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def bridge(definition: FlowTypeDefinition, own: AdapterFactory) -> AdapterFactory:
    return lambda uow: Tagged(f"bridge:{definition.version}", own(uow))


def registry(*definitions: FlowTypeDefinition, bridged: bool = False) -> FlowTypeRegistry:
    return FlowTypeRegistry(definitions).with_bridge(bridge, lambda name: bridged)


def orchestrator(flow_types: FlowTypeRegistry, store: Store | None = None) -> MasterFlowOrchestrator:
    return MasterFlowOrchestrator(FakeUnitOfWork(store or Store()), flow_types, FakeClock())


def uow() -> UnitOfWork:
    return FakeUnitOfWork()  # type: ignore[return-value]


async def created(mfo: MasterFlowOrchestrator, *, started: bool = True) -> Flow:
    flow = await mfo.create_flow(TENANT, "fake", "f", {"items": [1]}, actor="t")
    return await mfo.start_flow(TENANT, flow.flow_id, actor="t") if started else flow


# -- the registry -----------------------------------------------------------------------------------------------


def test_the_registry_holds_several_versions_and_new_flows_get_the_newest() -> None:
    types = registry(V2, V1)
    assert [d.version for d in types.versions("fake")] == [1, 2]
    assert types.get("fake") is V2 and types.get("fake", 1) is V1
    assert [d.version for d in types.definitions()] == [2]
    assert types.new_contract("fake") == V2.contract(bridged=False)
    with pytest.raises(UnknownFlowTypeVersion) as unknown:
        types.get("fake", 3)
    assert str(unknown.value) == "flow type 'fake' has no version 3; registered versions: 1, 2"


def test_a_version_registered_twice_or_with_another_child_table_is_refused() -> None:
    types = registry(V1)
    with pytest.raises(FlowTypeRegistrationError, match="'fake' version 1 is already registered"):
        types.register(V1)
    with pytest.raises(FlowTypeRegistrationError, match="keep theirs in 'fake_flows'"):
        types.register(_other_table(V2))


def _other_table(definition: FlowTypeDefinition) -> FlowTypeDefinition:
    from dataclasses import replace

    return replace(definition, child_table=replace(definition.child_table, name="fake_flows_2"))


def test_a_mapping_that_drops_a_phase_the_version_keeps_is_malformed() -> None:
    with pytest.raises(FlowTypeRegistrationError, match=r"drops phases it still has: \['collect'\]"):
        registry(V1, another_version(V1, dropped=frozenset({"collect"})))


def test_each_flow_runs_on_its_recorded_version_and_engine_whatever_new_flows_get() -> None:
    direct_registry, bridged_registry = registry(V1, V2), registry(V1, V2, bridged=True)
    bridged_flow = Flow.create(
        flow_id=uuid4(),
        tenant=TENANT,
        flow_type="fake",
        name="f",
        phases=list(V1.phases),
        configuration={},
        actor="t",
        at=FakeClock().now(),
        contract=V1.contract(bridged=True),
    )
    plain_flow = Flow.create(
        flow_id=uuid4(),
        tenant=TENANT,
        flow_type="fake",
        name="f",
        phases=list(V1.phases),
        configuration={},
        actor="t",
        at=FakeClock().now(),
        contract=V1.contract(bridged=False),
    )
    # a server whose setting leaves the bridge off still runs a bridged flow through the bridge of its version,
    assert direct_registry.adapter_of(bridged_flow, uow()).tag == "bridge:1"  # type: ignore[attr-defined]
    # and a server with the bridge on runs a flow created without it on the type's own adapter
    assert not isinstance(bridged_registry.adapter_of(plain_flow, uow()), Tagged)
    assert bridged_registry.adapter_for("fake", uow()).tag == "bridge:2"  # type: ignore[attr-defined]
    assert bridged_registry.new_contract("fake").bridged is True


# -- start-up -----------------------------------------------------------------------------------------------------


async def test_start_up_refuses_to_drop_a_version_flows_still_use_naming_how_many_and_their_status() -> None:
    store = Store()
    old = orchestrator(registry(V1), store)
    await created(old)
    await created(old)
    waiting = await created(old, started=False)
    await old.delete_flow(TENANT, waiting.flow_id, actor="t")  # a deleted flow uses no version
    await created(old, started=False)
    upgraded = orchestrator(registry(another_version(V1, migrates=False)), store)
    with pytest.raises(FlowTypeRegistrationError) as refused:
        await upgraded.refuse_unregistered_versions()
    assert str(refused.value).startswith(
        "flow type 'fake' version 1 is still used by 3 flows (1 initialized, 2 running) but is not registered"
    )
    await orchestrator(registry(V1, V2), store).refuse_unregistered_versions()  # both kept: accepted


async def test_the_listing_counts_a_tenants_flows_per_version() -> None:
    store = Store()
    await created(orchestrator(registry(V1), store))
    both = orchestrator(registry(V1, V2), store)
    await created(both)
    await created(both, started=False)
    listed = await both.flow_type_versions(TENANT)
    assert [(t.newest.version, [(v.definition.version, v.in_use.statuses) for v in t.versions]) for t in listed] == [
        (2, [(1, {"running": 1}), (2, {"initialized": 1, "running": 1})])
    ]
    other = await both.flow_type_versions(Tenant(uuid4(), uuid4()))
    assert [v.in_use.flows for v in other[0].versions] == [0, 0]


# -- two versions in flight, and migration ----------------------------------------------------------------------


async def run_to_end(mfo: MasterFlowOrchestrator, flow: Flow) -> Flow:
    while flow.status in (FlowStatus.RUNNING, FlowStatus.WAITING_FOR_INPUT):
        if flow.status == FlowStatus.WAITING_FOR_INPUT:
            flow = await mfo.submit_input(TENANT, flow.flow_id, {"approved": True}, actor="t")
        else:
            flow = await mfo.execute_phase(TENANT, flow.flow_id, actor="t")
    return flow


async def test_flows_of_two_versions_in_flight_each_run_their_own_phases() -> None:
    store = Store()
    old = await created(orchestrator(registry(V1), store))
    both = orchestrator(registry(V1, V2), store)
    new = await created(both)
    old, new = await run_to_end(both, old), await run_to_end(both, new)
    assert (old.status, old.contract.version, old.phase_names) == (FlowStatus.COMPLETED, 1, list(V1.phases))
    assert (new.status, new.contract.version, new.phase_names) == (FlowStatus.COMPLETED, 2, list(V2.phases))


async def test_migrating_a_flow_is_one_event_and_its_log_replays_to_it() -> None:
    store = Store()
    v1 = orchestrator(registry(V1), store)
    flow = await v1.execute_phase(TENANT, (await created(v1)).flow_id, actor="t")  # collect completed
    mfo = orchestrator(registry(V1, V2), store)
    migrated = await mfo.migrate_flow(TENANT, flow.flow_id, 2, actor="ops", expected_version=flow.version)
    events = await mfo.get_flow_events(TENANT, flow.flow_id)
    assert migrated.version == flow.version + 1 == len(events)
    assert events[-1].operation == Operation.MIGRATE
    assert Flow.replay(events) == await mfo.get_flow(TENANT, flow.flow_id)
    assert [(p.name, p.state) for p in migrated.phases] == [
        ("collect", PhaseState.COMPLETED),
        ("review", PhaseState.PENDING),
        ("publish", PhaseState.PENDING),
        ("archive", PhaseState.PENDING),
    ]
    status = await mfo.get_flow_status(TENANT, flow.flow_id)
    assert status.in_sync and status.child is not None and status.child.master_version == migrated.version
    finished = await run_to_end(mfo, migrated)
    assert finished.status == FlowStatus.COMPLETED and finished.phase_results["archive"] == {"added": True}


async def test_a_refused_migration_changes_nothing() -> None:
    store = Store()
    v1 = orchestrator(registry(V1), store)
    flow = await created(v1)
    flow = await v1.execute_phase(TENANT, flow.flow_id, actor="t")
    flow = await v1.execute_phase(TENANT, flow.flow_id, actor="t")  # review waits for input
    flow = await v1.submit_input(TENANT, flow.flow_id, {"approved": True}, actor="t")  # review completed
    without_review = another_version(V1, phases=("collect", "publish"), dropped=frozenset({"review"}))
    mfo = orchestrator(registry(V1, without_review), store)
    with pytest.raises(MigrationRefused) as refused:
        await mfo.migrate_flow(TENANT, flow.flow_id, 2, actor="ops")
    assert refused.value.reason.startswith("phase 'review' is completed and version 2 drops it")
    assert (await mfo.get_flow(TENANT, flow.flow_id)) == flow
    assert len(await mfo.get_flow_events(TENANT, flow.flow_id)) == flow.version


async def test_a_bulk_migration_lists_its_dry_run_then_does_what_it_listed() -> None:
    store = Store()
    v1 = orchestrator(registry(V1), store)
    movable = [await created(v1), await created(v1, started=False)]
    stuck = await created(v1)
    for _ in range(2):
        stuck = await v1.execute_phase(TENANT, stuck.flow_id, actor="t")
    stuck = await v1.submit_input(TENANT, stuck.flow_id, {"approved": True}, actor="t")
    without_review = another_version(V1, phases=("collect", "publish"), dropped=frozenset({"review"}))
    mfo = orchestrator(registry(V1, without_review), store)
    selection = MigrationSelection("fake", 1, 2)
    dry = await mfo.migrate_flows(TENANT, selection, actor="ops", dry_run=True)
    assert {(i.flow_id, i.outcome) for i in dry} == {
        *((f.flow_id, "would_migrate") for f in movable),
        (stuck.flow_id, "refused"),
    }
    assert all(f.contract.version == 1 for f in [await mfo.get_flow(TENANT, f.flow_id) for f in [*movable, stuck]])
    done = await mfo.migrate_flows(TENANT, selection, actor="ops", dry_run=False)
    assert [(i.flow_id, i.outcome, i.plan, i.reason) for i in done] == [
        (i.flow_id, "migrated" if i.outcome == "would_migrate" else "refused", i.plan, i.reason) for i in dry
    ]
    for flow in movable:
        stored = await mfo.get_flow(TENANT, flow.flow_id)
        assert (stored.contract.version, stored.phase_names, stored.version) == (
            2,
            ["collect", "publish"],
            flow.version + 1,
        )
    assert (await mfo.get_flow(TENANT, stuck.flow_id)).contract.version == 1
    assert await mfo.migrate_flows(TENANT, selection, actor="ops", dry_run=True) == [
        i for i in done if i.outcome == "refused"
    ]


def test_usage_leaves_out_deleted_flows_and_names_one_flow_as_one() -> None:
    from application.flow_type_versions import versions_in_use
    from domain.ports import VersionUsage

    grouped = versions_in_use(
        [
            VersionUsage("fake", 1, FlowStatus.DELETED, 4),
            VersionUsage("fake", 1, FlowStatus.PAUSED, 1),
            VersionUsage("fake", 2, FlowStatus.DELETED, 2),
            VersionUsage("fake", 3, FlowStatus.RUNNING, 0),
        ]
    )
    assert list(grouped) == [("fake", 1)]
    assert (grouped[("fake", 1)].flows, grouped[("fake", 1)].described()) == (1, "1 flow (1 paused)")


async def test_a_busy_flow_in_a_bulk_migration_is_listed_as_refused_and_holds_up_no_other() -> None:
    store = Store()
    v1 = orchestrator(registry(V1), store)
    busy, free = await created(v1), await created(v1)
    mfo = orchestrator(registry(V1, another_version(V1)), store)
    holder = FakeUnitOfWork(store)
    async with holder:  # another operation holds the busy flow's row past the lock timeout
        await holder.scope(TENANT)
        await holder.flows.get_for_update(TENANT, busy.flow_id)
        done = await mfo.migrate_flows(TENANT, MigrationSelection("fake", 1, 2), actor="ops", dry_run=False)
    outcomes = {i.flow_id: (i.outcome, i.reason) for i in done}
    assert outcomes[free.flow_id] == ("migrated", None)
    assert outcomes[busy.flow_id][0] == "refused" and "busy" in (outcomes[busy.flow_id][1] or ""), outcomes
    assert (await mfo.get_flow(TENANT, busy.flow_id)).contract.version == 1
