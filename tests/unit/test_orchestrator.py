"""The orchestrator on fakes: one commit per operation, nothing kept when a step raises."""

from __future__ import annotations

from uuid import uuid4

import pytest

from application.flow_type_registry import FlowTypeRegistry
from application.orchestrator import MasterFlowOrchestrator
from domain.errors import FlowNotFound, IllegalTransition, InvalidFlowInput, UnknownFlowType
from domain.events import Tenant
from domain.lifecycle import FlowStatus, Operation, PhaseState, allowed_operations
from domain.phase_policy import PhasePolicy
from domain.ports import FlowFilter
from domain.status_sync import child_status_for
from tests.fakes import FakeClock, FakeUnitOfWork, fake_flow_type

TENANT = Tenant(uuid4(), uuid4())
OTHER = Tenant(uuid4(), uuid4())


def orchestrator(uow: FakeUnitOfWork | None = None, **options: object) -> MasterFlowOrchestrator:
    return MasterFlowOrchestrator(uow or FakeUnitOfWork(), FlowTypeRegistry([fake_flow_type(**options)]), FakeClock())


def child_of(uow: FakeUnitOfWork, flow_id):  # type: ignore[no-untyped-def]
    return uow.committed_store.children[("fake_flows", TENANT, flow_id)]


async def test_create_commits_master_child_and_event_together() -> None:
    mfo = orchestrator()
    flow = await mfo.create_flow(TENANT, "fake", "first", {"items": [1, 2]}, actor="alice")
    uow = mfo.unit_of_work
    assert isinstance(uow, FakeUnitOfWork)
    assert uow.commits == 1
    assert uow.committed_store.flows[(TENANT, flow.flow_id)].status == FlowStatus.INITIALIZED
    assert child_of(uow, flow.flow_id).status == child_status_for(FlowStatus.INITIALIZED)
    assert [e.version for e in uow.committed_store.events] == [1]


async def test_a_whole_run_keeps_child_and_events_in_step() -> None:
    mfo = orchestrator()
    uow = mfo.unit_of_work
    assert isinstance(uow, FakeUnitOfWork)
    flow = await mfo.create_flow(TENANT, "fake", "run", {"items": [1]}, actor="a")
    await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    await mfo.execute_phase(TENANT, flow.flow_id, actor="a")
    waiting = await mfo.execute_phase(TENANT, flow.flow_id, actor="a")
    assert waiting.status == FlowStatus.WAITING_FOR_INPUT
    await mfo.submit_input(TENANT, flow.flow_id, {"approved": True}, actor="a")
    done = await mfo.execute_phase(TENANT, flow.flow_id, actor="a")
    assert done.status == FlowStatus.COMPLETED
    # create, start, then two events per executed phase (its claim, its completion) and one for the input
    assert done.version == 9 == len(uow.committed_store.events)
    assert [e.operation for e in uow.committed_store.events] == [
        "create", "start",
        "execute_phase", "complete_phase",
        "execute_phase", "complete_phase",
        "submit_input",
        "execute_phase", "complete_phase",
    ]  # fmt: skip
    child = child_of(uow, flow.flow_id)
    assert (child.status, child.master_version) == ("complete", 9)
    assert uow.committed_store.leases == {}
    attempts = sorted(uow.committed_store.attempts.values(), key=lambda a: a.started_at)
    assert [(a.phase, a.attempt, a.owner, a.result) for a in attempts] == [
        ("collect", 1, "inline", "completed"),
        ("review", 1, "inline", "needs_input"),
        ("publish", 1, "inline", "completed"),
    ]
    view = await mfo.get_flow_status(TENANT, flow.flow_id)
    assert view.in_sync and view.child_projected_status == FlowStatus.COMPLETED


async def test_an_adapter_that_raises_while_writing_leaves_everything_unchanged() -> None:
    mfo = orchestrator(raise_in="save_child")
    uow = mfo.unit_of_work
    assert isinstance(uow, FakeUnitOfWork)
    with pytest.raises(RuntimeError):
        await mfo.create_flow(TENANT, "fake", "x", {}, actor="a")
    assert uow.committed_store.flows == {} and uow.committed_store.events == []


async def test_an_unexpected_error_inside_a_phase_is_a_failed_phase_not_an_error_of_the_request() -> None:
    mfo = orchestrator(raise_in="collect", policy=PhasePolicy(max_attempts=1))  # no attempt after the first
    uow = mfo.unit_of_work
    assert isinstance(uow, FakeUnitOfWork)
    flow = await mfo.create_flow(TENANT, "fake", "x", {}, actor="a")
    await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    failed = await mfo.execute_phase(TENANT, flow.flow_id, actor="a")
    assert failed.status == FlowStatus.FAILED and failed.phase_state("collect") == PhaseState.FAILED
    assert failed.error is not None and "RuntimeError: adapter crashed in collect" in failed.error
    assert Operation.RETRY in allowed_operations(failed.status)
    assert uow.committed_store.flows[(TENANT, flow.flow_id)].status == FlowStatus.FAILED  # recorded, and committed
    assert uow.committed_store.events[-1].data["error"] == failed.error


async def test_a_phase_failure_is_recorded_not_raised() -> None:
    mfo = orchestrator(fail_in="collect")
    flow = await mfo.create_flow(TENANT, "fake", "x", {}, actor="a")
    await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    failed = await mfo.execute_phase(TENANT, flow.flow_id, actor="a")
    assert (failed.status, failed.error) == (FlowStatus.FAILED, "collect failed on purpose")


async def test_an_illegal_transition_commits_nothing() -> None:
    mfo = orchestrator()
    uow = mfo.unit_of_work
    assert isinstance(uow, FakeUnitOfWork)
    flow = await mfo.create_flow(TENANT, "fake", "x", {}, actor="a")
    with pytest.raises(IllegalTransition):
        await mfo.pause_flow(TENANT, flow.flow_id, actor="a")
    assert uow.commits == 1


async def test_unknown_types_missing_flows_and_other_tenants_are_errors() -> None:
    mfo = orchestrator()
    with pytest.raises(UnknownFlowType, match="known types: fake"):
        await mfo.create_flow(TENANT, "nope", "x", {}, actor="a")
    with pytest.raises(UnknownFlowType):
        mfo.get_flow_service("nope")
    with pytest.raises(InvalidFlowInput):
        await mfo.create_flow(TENANT, "fake", "   ", {}, actor="a")
    flow = await mfo.create_flow(TENANT, "fake", "x", {}, actor="a")
    with pytest.raises(FlowNotFound):
        await mfo.get_flow(OTHER, flow.flow_id)
    with pytest.raises(FlowNotFound):
        await mfo.start_flow(OTHER, flow.flow_id, actor="a")
    assert (await mfo.list_flows(OTHER, FlowFilter())).items == []


async def test_the_adapter_gets_the_orchestrators_unit_of_work() -> None:
    mfo = orchestrator()
    adapter = mfo.get_flow_service("fake")
    assert adapter.unit_of_work is mfo.unit_of_work  # type: ignore[attr-defined]


async def test_list_and_events() -> None:
    mfo = orchestrator()
    ids = [(await mfo.create_flow(TENANT, "fake", f"f{i}", {}, actor="a")).flow_id for i in range(5)]
    await mfo.delete_flow(TENANT, ids[0], actor="a")
    first = await mfo.list_flows(TENANT, FlowFilter(), limit=2)
    second = await mfo.list_flows(TENANT, FlowFilter(), limit=2, cursor=first.next_cursor)
    assert [f.flow_id for f in first.items + second.items] == ids[:0:-1]
    assert second.next_cursor is None
    deleted = await mfo.list_flows(TENANT, FlowFilter(statuses=(FlowStatus.DELETED,)))
    assert [f.flow_id for f in deleted.items] == [ids[0]]
    events = await mfo.get_flow_events(TENANT, ids[0])
    assert [(e.version, e.to_status) for e in events] == [(1, "initialized"), (2, "deleted")]


async def test_an_operation_restricted_to_a_flow_type_sees_only_flows_of_that_type() -> None:
    mfo = MasterFlowOrchestrator(
        FakeUnitOfWork(), FlowTypeRegistry([fake_flow_type(), fake_flow_type(name="other")]), FakeClock()
    )
    flow = await mfo.create_flow(TENANT, "fake", "x", {}, actor="a")
    assert (await mfo.get_flow(TENANT, flow.flow_id, flow_type="fake")).flow_id == flow.flow_id
    for attempt in (
        mfo.get_flow(TENANT, flow.flow_id, flow_type="other"),
        mfo.pause_flow(TENANT, flow.flow_id, actor="a", flow_type="other"),
        mfo.get_flow_status(TENANT, flow.flow_id, flow_type="other"),
        mfo.get_flow_events(TENANT, flow.flow_id, flow_type="other"),
    ):
        with pytest.raises(FlowNotFound):
            await attempt
    assert (await mfo.get_flow(TENANT, flow.flow_id)).version == 1  # nothing was changed


@pytest.mark.parametrize(
    ("name", "configuration", "message"),
    [
        ("nul\x00name", {}, "NUL"),
        ("x", {"rows": [{"a": "b\x00"}]}, "NUL"),
        ("x", {"k\x00": 1}, "NUL"),
        ("x", {"deep": __import__("functools").reduce(lambda acc, _: [acc], range(40), [])}, "deeper"),
    ],
)
async def test_what_postgresql_cannot_store_is_refused_before_any_write(
    name: str, configuration: dict, message: str
) -> None:
    mfo = orchestrator()
    with pytest.raises(InvalidFlowInput, match=message):
        await mfo.create_flow(TENANT, "fake", name, configuration, actor="a")
    uow = mfo.unit_of_work
    assert isinstance(uow, FakeUnitOfWork) and uow.entered == 0


class ScopeCheckingUnitOfWork(FakeUnitOfWork):
    """Refuses any repository call made before ``scope()`` in the current unit of work, as row-level security
    would hide every row."""

    def __init__(self) -> None:
        super().__init__()
        self.current: Tenant | None = None

    async def __aenter__(self):  # type: ignore[no-untyped-def]
        await super().__aenter__()
        self.current = None
        self.flows, self.events = self._guarded(self.flows), self._guarded(self.events)  # type: ignore[assignment]
        self.phase_runs = self._guarded(self.phase_runs)  # type: ignore[assignment]
        return self

    async def scope(self, tenant: Tenant) -> None:
        await super().scope(tenant)
        self.current = tenant

    def _guarded(self, repository: object) -> object:
        uow = self

        class Guarded:
            def __getattr__(self, name: str) -> object:
                assert uow.current is not None, f"{name} called before scope()"
                return getattr(repository, name)

        return Guarded()


async def test_every_operation_scopes_its_unit_of_work_to_the_tenant_before_its_first_statement() -> None:
    uow = ScopeCheckingUnitOfWork()
    mfo = orchestrator(uow)
    flow = await mfo.create_flow(TENANT, "fake", "scoped", {"items": [1]}, actor="a")
    await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    await mfo.execute_phase(TENANT, flow.flow_id, actor="a")  # its claim and its completion: two units of work
    await mfo.execute_phase(TENANT, flow.flow_id, actor="a")
    await mfo.submit_input(TENANT, flow.flow_id, {"approved": True}, actor="a")
    await mfo.get_flow(TENANT, flow.flow_id)
    await mfo.get_flow_status(TENANT, flow.flow_id)
    await mfo.get_flow_events(TENANT, flow.flow_id)
    await mfo.list_flows(TENANT, FlowFilter())
    await mfo.pause_flow(TENANT, flow.flow_id, actor="a")
    await mfo.resume_flow(TENANT, flow.flow_id, actor="a")
    await mfo.cancel_flow(TENANT, flow.flow_id, actor="a")
    await mfo.delete_flow(TENANT, flow.flow_id, actor="a")
    await mfo.get_phase_attempts(TENANT, flow.flow_id)
    await mfo.initialize_flow(OTHER, "fake", "other", {"items": [1]}, actor="b")
    assert uow.scopes == [TENANT] * 16 + [OTHER]
    assert uow.entered == 17
