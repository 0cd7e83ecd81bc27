"""The orchestrator's commands on fakes: each one passes its caller's version, type, key and actor to the change it
makes, writes the master row, the child record, the events and the answer in its one commit."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.flow_type_registry import FlowTypeRegistry
from application.orchestration import unexpected_error
from application.orchestrator import MasterFlowOrchestrator
from domain.background import DueWork, due_at
from domain.errors import FlowNotFound, InvalidFlowInput, VersionConflict
from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import PhaseContext
from domain.idempotency import IdempotentReplay, IdempotentRequest, StoredResponse
from domain.lifecycle import FlowStatus, PhaseState
from domain.phase_policy import PhasePolicy
from domain.phases import PhaseOutcome
from tests.fakes import FakeClock, FakeObserver, FakePhaseQueue, FakeUnitOfWork, StoredKey, fake_flow_type

TENANT = Tenant(uuid4(), uuid4())
FIXED_ID = UUID("00000000-0000-0000-0000-00000000000a")


def orchestrator(
    uow: FakeUnitOfWork | None = None, observer: FakeObserver | None = None, **options: Any
) -> MasterFlowOrchestrator:
    registry = FlowTypeRegistry([fake_flow_type(**options), fake_flow_type(name="other")])
    extra: dict[str, Any] = {"observer": observer} if observer else {}
    return MasterFlowOrchestrator(uow or FakeUnitOfWork(), registry, FakeClock(), **extra)


def fake_uow(mfo: MasterFlowOrchestrator) -> FakeUnitOfWork:
    uow = mfo.unit_of_work
    assert isinstance(uow, FakeUnitOfWork)
    return uow


def answer(flow: Flow) -> StoredResponse:
    return StoredResponse(200, f"{flow.status}:{flow.version}".encode(), {})


def keyed(key: str) -> IdempotentRequest:
    return IdempotentRequest(key=key, fingerprint="f", ttl=timedelta(hours=1), render=answer)


async def prepared(mfo: MasterFlowOrchestrator, command: str) -> Flow:
    """A flow of type 'fake' in a status where ``command`` is allowed."""
    configuration = {"items": [1], "fail": "collect"} if command == "retry_flow" else {"items": [1]}
    flow = await mfo.create_flow(TENANT, "fake", "f", configuration, actor="setup")
    if command in ("start_flow", "delete_flow"):
        return flow
    flow = await mfo.start_flow(TENANT, flow.flow_id, actor="setup")
    if command == "retry_flow":
        return await mfo.execute_phase(TENANT, flow.flow_id, actor="setup")
    if command == "submit_input":
        await mfo.execute_phase(TENANT, flow.flow_id, actor="setup")
        return await mfo.execute_phase(TENANT, flow.flow_id, actor="setup")
    if command == "resume_flow":
        return await mfo.pause_flow(TENANT, flow.flow_id, actor="setup")
    return flow


def command_of(mfo: MasterFlowOrchestrator, command: str) -> Callable[..., Awaitable[Flow]]:
    method = getattr(mfo, command)
    if command == "submit_input":
        return lambda flow_id, **kw: method(TENANT, flow_id, {"approved": True}, **kw)
    return lambda flow_id, **kw: method(TENANT, flow_id, **kw)


COMMANDS = [
    ("start_flow", FlowStatus.RUNNING),
    ("execute_phase", FlowStatus.RUNNING),
    ("submit_input", FlowStatus.RUNNING),
    ("retry_flow", FlowStatus.FAILED),
    ("pause_flow", FlowStatus.PAUSED),
    ("resume_flow", FlowStatus.RUNNING),
    ("cancel_flow", FlowStatus.CANCELLED),
    ("delete_flow", FlowStatus.DELETED),
]
NAMES = [name for name, _ in COMMANDS]
PHASE_RUNS = {"execute_phase", "retry_flow"}
"""The commands that run a phase, inline: a claim (one commit, one event: the flow runs the phase), then the run,
then the completion (one commit, one event: the outcome). Every other command is one commit, one event."""


def steps_of(command: str) -> int:
    return 2 if command in PHASE_RUNS else 1


@pytest.mark.parametrize(("command", "status"), COMMANDS)
async def test_each_command_records_its_actor_and_time_in_one_commit(command: str, status: FlowStatus) -> None:
    mfo = orchestrator()
    uow = fake_uow(mfo)
    flow = await prepared(mfo, command)
    commits, events = uow.commits, len(uow.committed_store.events)
    steps = steps_of(command)
    changed = await command_of(mfo, command)(flow.flow_id, actor="bob")
    assert (changed.status, changed.version) == (status, flow.version + steps)
    assert uow.commits == commits + steps
    stored = uow.committed_store.flows[(TENANT, flow.flow_id)]
    assert (stored.status, stored.version) == (status, flow.version + steps)
    written = uow.committed_store.events[events:]
    assert [(e.flow_id, e.version, e.actor) for e in written] == [
        (flow.flow_id, v, "bob") for v in range(flow.version + 1, changed.version + 1)
    ]
    event = written[-1]
    assert event.to_status == status
    assert event.occurred_at == changed.updated_at > flow.updated_at
    if command in PHASE_RUNS:  # the claim, then the completion of its attempt
        assert [(e.operation, e.to_status) for e in written] == [
            (OPERATIONS[command][0], FlowStatus.RUNNING),
            ("complete_phase", status),
        ]
        assert changed.run is None and uow.committed_store.leases == {}
    child = uow.committed_store.children[("fake_flows", TENANT, flow.flow_id)]
    assert child.master_version == changed.version


@pytest.mark.parametrize("command", NAMES)
async def test_each_command_refuses_a_stale_expected_version_and_takes_the_current_one(command: str) -> None:
    mfo = orchestrator()
    uow = fake_uow(mfo)
    flow = await prepared(mfo, command)
    commits = uow.commits
    with pytest.raises(VersionConflict) as raised:
        await command_of(mfo, command)(flow.flow_id, actor="a", expected_version=flow.version - 1)
    assert (raised.value.expected_version, raised.value.current_version) == (flow.version - 1, flow.version)
    assert uow.commits == commits
    changed = await command_of(mfo, command)(flow.flow_id, actor="a", expected_version=flow.version)
    assert changed.version == flow.version + steps_of(command)


@pytest.mark.parametrize("command", NAMES)
async def test_each_command_restricted_to_another_type_does_not_find_the_flow(command: str) -> None:
    mfo = orchestrator()
    uow = fake_uow(mfo)
    flow = await prepared(mfo, command)
    commits = uow.commits
    with pytest.raises(FlowNotFound) as raised:
        await command_of(mfo, command)(flow.flow_id, actor="a", flow_type="other")
    assert raised.value.flow_id == flow.flow_id
    assert uow.commits == commits
    changed = await command_of(mfo, command)(flow.flow_id, actor="a", flow_type="fake")
    assert changed.version == flow.version + steps_of(command)


@pytest.mark.parametrize("command", NAMES)
async def test_each_command_stores_its_answer_under_its_key_and_replays_it(command: str) -> None:
    mfo = orchestrator()
    uow = fake_uow(mfo)
    flow = await prepared(mfo, command)
    changed = await command_of(mfo, command)(flow.flow_id, actor="a", idempotency=keyed(command))
    # a phase run's answer is its claim's (the flow running the phase), stored in the claim's commit
    answered = StoredResponse(200, f"running:{flow.version + 1}".encode(), {}) if command in PHASE_RUNS else None
    assert uow.committed_store.idempotency_keys[(TENANT, command)].response == (answered or answer(changed))
    with pytest.raises(IdempotentReplay) as replayed:
        await command_of(mfo, command)(flow.flow_id, actor="a", idempotency=keyed(command))
    assert (replayed.value.key, replayed.value.response) == (command, answered or answer(changed))
    assert uow.committed_store.flows[(TENANT, flow.flow_id)].version == changed.version


async def test_initialize_stores_its_answer_under_its_key_and_replays_it() -> None:
    mfo = orchestrator()
    uow = fake_uow(mfo)
    flow = await mfo.initialize_flow(TENANT, "fake", "f", {}, actor="a", idempotency=keyed("init"))
    assert uow.committed_store.idempotency_keys[(TENANT, "init")].response == answer(flow)
    with pytest.raises(IdempotentReplay):
        await mfo.initialize_flow(TENANT, "fake", "f", {}, actor="a", idempotency=keyed("init"))
    assert len(uow.committed_store.flows) == 1


async def test_start_with_auto_run_marks_the_flow_and_makes_its_first_phase_due() -> None:
    mfo = orchestrator()
    flow = await prepared(mfo, "start_flow")
    started = await mfo.start_flow(TENANT, flow.flow_id, actor="a", auto_run=True)
    store = fake_uow(mfo).committed_store
    assert started.auto_run and store.events[-1].data["auto_run"] is True
    stored = store.flows[(TENANT, flow.flow_id)]
    assert due_at(stored) == started.updated_at  # due at once: a runner's poll claims it
    assert await FakePhaseQueue(store).due(10, 5) == [DueWork(TENANT, flow.flow_id)]
    assert store.leases == {} and store.attempts == {}  # nothing claimed yet


async def test_execute_phase_runs_the_phase_asked_for_and_skips_the_ones_before_it() -> None:
    mfo = orchestrator()
    flow = await prepared(mfo, "execute_phase")
    ran = await mfo.execute_phase(TENANT, flow.flow_id, "review", actor="a")
    assert [p.state for p in ran.phases] == [PhaseState.SKIPPED, PhaseState.RUNNING, PhaseState.PENDING]
    assert (ran.current_phase, ran.status) == ("review", FlowStatus.WAITING_FOR_INPUT)


async def test_submitted_input_is_kept_in_its_event_and_the_phase_result() -> None:
    mfo = orchestrator()
    flow = await prepared(mfo, "submit_input")
    done = await mfo.submit_input(TENANT, flow.flow_id, {"approved": True, "by": "x"}, actor="a")
    event = fake_uow(mfo).committed_store.events[-1]
    assert event.data["input"] == {"approved": True, "by": "x"}
    assert done.phase_results["review"] == {"approved": True}
    assert done.phase_state("review") == PhaseState.COMPLETED


async def test_input_that_cannot_be_stored_is_refused_before_the_unit_of_work() -> None:
    mfo = orchestrator()
    flow = await prepared(mfo, "submit_input")
    entered = fake_uow(mfo).entered
    with pytest.raises(InvalidFlowInput) as raised:
        await mfo.submit_input(TENANT, flow.flow_id, {"note": "a\x00b"}, actor="a")
    assert str(raised.value) == "the input contains a NUL character, which cannot be stored"
    assert fake_uow(mfo).entered == entered


async def test_retry_runs_the_failed_phase_again() -> None:
    mfo = orchestrator()
    flow = await prepared(mfo, "retry_flow")
    uow = fake_uow(mfo)
    store = uow.committed_store
    stored = store.flows[(TENANT, flow.flow_id)]
    stored.configuration = {"items": [1]}  # the data is fixed: the retry now completes the phase
    retried = await mfo.retry_flow(TENANT, flow.flow_id, actor="a")
    assert (retried.status, retried.phase_state("collect")) == (FlowStatus.RUNNING, PhaseState.COMPLETED)
    assert retried.phase_results["collect"] == {"items": 1, "phase": "collect"}


async def test_create_builds_the_flow_from_its_definition_and_the_arguments() -> None:
    observer = FakeObserver()
    uow = FakeUnitOfWork()
    registry = FlowTypeRegistry([fake_flow_type()])
    mfo = MasterFlowOrchestrator(uow, registry, FakeClock(), new_id=lambda: FIXED_ID, observer=observer)
    flow = await mfo.create_flow(TENANT, "fake", "mine", {"items": [1, 2]}, actor="carol")
    assert (flow.flow_id, flow.tenant, flow.flow_type, flow.name) == (FIXED_ID, TENANT, "fake", "mine")
    assert (flow.status, flow.version, flow.configuration) == (FlowStatus.INITIALIZED, 1, {"items": [1, 2]})
    assert [p.name for p in flow.phases] == ["collect", "review", "publish"]
    (event,) = uow.committed_store.events
    assert (event.actor, event.version, event.occurred_at) == ("carol", 1, flow.created_at)
    assert uow.committed_store.flows[(TENANT, FIXED_ID)] == flow
    assert uow.committed_store.children[("fake_flows", TENANT, FIXED_ID)].details == {"items": 2}
    assert uow.scopes == [TENANT]
    (observed,) = observer.operations
    assert (observed.operation, observed.tenant, observed.flow_type, observed.flow_id) == (
        "create",
        TENANT,
        "fake",
        FIXED_ID,
    )


async def test_initialize_creates_and_starts_in_one_commit() -> None:
    observer = FakeObserver()
    mfo = orchestrator(observer=observer)
    uow = fake_uow(mfo)
    flow = await mfo.initialize_flow(TENANT, "fake", "init", {}, actor="dan")
    assert (flow.status, flow.version, uow.commits) == (FlowStatus.RUNNING, 2, 1)
    assert [(e.version, e.actor, e.to_status) for e in uow.committed_store.events] == [
        (1, "dan", FlowStatus.INITIALIZED),
        (2, "dan", FlowStatus.RUNNING),
    ]
    assert uow.committed_store.events[1].occurred_at == flow.updated_at > flow.created_at
    assert uow.committed_store.children[("fake_flows", TENANT, flow.flow_id)].master_version == 2
    assert [o.operation for o in observer.operations] == ["initialize"]


async def test_a_created_flow_of_another_registered_type_is_of_that_type() -> None:
    mfo = orchestrator()
    uow = fake_uow(mfo)
    flow = await mfo.create_flow(TENANT, "other", "o", {}, actor="a")
    assert flow.flow_type == "other"
    assert ("other_flows", TENANT, flow.flow_id) in uow.committed_store.children
    assert ("fake_flows", TENANT, flow.flow_id) not in uow.committed_store.children


@pytest.mark.parametrize(
    ("name", "configuration", "message"),
    [
        ("", {}, "a flow needs a non-empty name"),
        (" \t", {}, "a flow needs a non-empty name"),
        ("a\x00", {}, "the name contains a NUL character, which cannot be stored"),
        ("x", {"a": "\x00"}, "the configuration contains a NUL character, which cannot be stored"),
    ],
)
async def test_create_refuses_a_bad_name_or_configuration_before_the_unit_of_work(
    name: str, configuration: dict, message: str
) -> None:
    mfo = orchestrator()
    with pytest.raises(InvalidFlowInput) as raised:
        await mfo.create_flow(TENANT, "fake", name, configuration, actor="a")
    assert str(raised.value) == message
    assert fake_uow(mfo).entered == 0


async def test_create_checks_the_configuration_with_the_types_own_check() -> None:
    def validate(configuration: dict[str, Any]) -> None:
        if "items" not in configuration:
            raise InvalidFlowInput("items is required")

    definition = dataclasses.replace(fake_flow_type(), validate_configuration=validate)
    uow = FakeUnitOfWork()
    mfo = MasterFlowOrchestrator(uow, FlowTypeRegistry([definition]), FakeClock())
    with pytest.raises(InvalidFlowInput, match="items is required"):
        await mfo.create_flow(TENANT, "fake", "x", {}, actor="a")
    assert uow.entered == 0
    assert (await mfo.create_flow(TENANT, "fake", "x", {"items": []}, actor="a")).version == 1


async def test_a_command_is_observed_with_its_operation_tenant_and_flow() -> None:
    observer = FakeObserver()
    mfo = orchestrator(observer=observer)
    flow = await prepared(mfo, "pause_flow")
    await mfo.pause_flow(TENANT, flow.flow_id, actor="a")
    observed = observer.operations[-1]
    assert (observed.operation, observed.tenant, observed.flow_id, observed.flow_type) == (
        "pause",
        TENANT,
        flow.flow_id,
        "fake",
    )
    assert observed.error is None


async def test_purging_expired_keys_commits_and_stops_at_the_limit() -> None:
    clock = FakeClock()
    uow = FakeUnitOfWork()
    mfo = MasterFlowOrchestrator(uow, FlowTypeRegistry([fake_flow_type()]), clock)
    short = IdempotentRequest(key="k", fingerprint="f", ttl=timedelta(milliseconds=1), render=answer)
    for index in range(3):
        await mfo.create_flow(
            TENANT, "fake", "f", {}, actor="a", idempotency=dataclasses.replace(short, key=f"k{index}")
        )
    clock.advance(timedelta(seconds=1))
    commits = uow.commits
    assert await mfo.purge_expired_idempotency_keys(limit=2) == 2
    assert uow.commits == commits + 1
    assert len(uow.committed_store.idempotency_keys) == 1
    assert await mfo.purge_expired_idempotency_keys() == 1
    assert uow.committed_store.idempotency_keys == {}


OPERATIONS = {
    "start_flow": ("start", []),
    "execute_phase": ("execute_phase", ["collect"]),
    "submit_input": ("submit_input", ["review"]),
    "retry_flow": ("retry", ["collect"]),
    "pause_flow": ("pause", []),
    "resume_flow": ("resume", []),
    "cancel_flow": ("cancel", []),
    "delete_flow": ("delete", []),
}


@pytest.mark.parametrize("command", NAMES)
async def test_each_command_is_observed_as_its_operation_with_the_phase_it_ran(command: str) -> None:
    observer = FakeObserver()
    mfo = orchestrator(observer=observer)
    flow = await prepared(mfo, command)
    before = len(observer.operations)
    await command_of(mfo, command)(flow.flow_id, actor="a")
    observed = observer.operations[before:]
    operation, phases = OPERATIONS[command]
    # a phase run is observed as its three parts: the claim (as the command's operation), the handler's run (with
    # the phase it ran), the completion
    expected = [operation, "run_phase", "complete_phase"] if command in PHASE_RUNS else [operation]
    assert [o.operation for o in observed] == expected
    assert all((o.tenant, o.flow_id, o.flow_type, o.error) == (TENANT, flow.flow_id, "fake", None) for o in observed)
    assert [phase for o in observed for phase, _, _ in o.phases] == phases
    if command in PHASE_RUNS:
        assert [phase for phase, _, _ in observed[1].phases] == phases


async def test_a_phase_that_raises_records_the_unexpected_error_of_that_phase() -> None:
    mfo = orchestrator(raise_in="collect", policy=PhasePolicy(max_attempts=1))
    flow = await prepared(mfo, "execute_phase")
    failed = await mfo.execute_phase(TENANT, flow.flow_id, actor="a")
    assert failed.status == FlowStatus.FAILED
    assert failed.error == unexpected_error("collect", RuntimeError("adapter crashed in collect"))


async def test_a_start_runs_in_the_foreground_unless_asked() -> None:
    mfo = orchestrator()
    flow = await prepared(mfo, "start_flow")
    started = await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    store = fake_uow(mfo).committed_store
    assert not started.auto_run and due_at(store.flows[(TENANT, flow.flow_id)]) is None
    assert await FakePhaseQueue(store).due(10, 5) == []


async def test_input_is_given_to_the_types_handler_with_the_flow() -> None:
    async def accept(flow: Flow, payload: dict[str, Any], _: PhaseContext) -> PhaseOutcome:
        return PhaseOutcome.completed({"flow": flow.name, **payload})

    definition = dataclasses.replace(fake_flow_type(), accept={"review": accept})
    mfo = MasterFlowOrchestrator(FakeUnitOfWork(), FlowTypeRegistry([definition]), FakeClock())
    flow = await prepared(mfo, "submit_input")
    done = await mfo.submit_input(TENANT, flow.flow_id, {"approved": True}, actor="a")
    assert done.phase_results["review"] == {"flow": "f", "approved": True}


async def test_purging_stops_at_ten_thousand_keys_unless_told() -> None:
    clock = FakeClock()
    uow = FakeUnitOfWork()
    mfo = MasterFlowOrchestrator(uow, FlowTypeRegistry([fake_flow_type()]), clock)
    expired = clock.now()
    uow.committed_store.idempotency_keys = {(TENANT, f"k{i}"): StoredKey("f", expired) for i in range(10_001)}
    assert await mfo.purge_expired_idempotency_keys() == 10_000
    assert len(uow.committed_store.idempotency_keys) == 1
