"""The execution contract a flow records at creation, and the migration of a flow to another version of its type:
kept, added and dropped phases, one event, replayable, and every refusal naming why."""

from __future__ import annotations

import pytest

from domain.contract import ExecutionContract, MigrationPlan, PhaseMapping, RecordedPolicy
from domain.errors import IllegalTransition, MigrationRefused
from domain.flow import Flow
from domain.lifecycle import FlowStatus, Operation, PhaseState
from domain.phase_policy import Backoff, PhasePolicy
from domain.phases import PhaseOutcome
from tests.unit.flow_builders import PHASES, claim, flow_in, new_flow, run_next

V2 = ExecutionContract(version=2, phases=("collect", "review", "summarise", "publish"), input_phases=("review",))
"""Version 2: ``summarise`` added before ``publish``."""
KEEP_ALL = PhaseMapping()
V3_WITHOUT_PUBLISH = ExecutionContract(version=3, phases=("collect", "review"), input_phases=("review",))
DROP_PUBLISH = PhaseMapping(dropped=frozenset({"publish"}))


def states(flow: Flow) -> dict[str, PhaseState]:
    return {p.name: p.state for p in flow.phases}


def test_a_contract_survives_its_stored_form() -> None:
    policy = RecordedPolicy.of(PhasePolicy(12.5, 4, Backoff(2.0, 3.0, 30.0, 0.0), never_retry=(KeyError,)))
    contract = ExecutionContract(7, ("a", "b"), ("b",), {"a": policy}, bridged=True)
    assert ExecutionContract.from_data(contract.to_data()) == contract
    assert policy.never_retry == ("KeyError",)


def test_a_recorded_policy_is_the_one_a_phase_runs_under_not_the_declared_one() -> None:
    declared = PhasePolicy(300.0, 3, never_retry=(KeyError, ValueError))
    recorded = RecordedPolicy(5.0, 1, Backoff(0.5), never_retry=("KeyError",))
    contract = ExecutionContract(phases=("a", "b"), policies={"a": recorded})
    applied = contract.policy_for("a", declared)
    assert (applied.timeout_seconds, applied.max_attempts, applied.backoff) == (5.0, 1, Backoff(0.5))
    assert applied.never_retry == (KeyError,)  # the declared type of each recorded name
    assert contract.policy_for("b", declared) is declared  # nothing recorded: the version's own


def test_creation_records_the_contract_and_replay_rebuilds_it() -> None:
    flow = new_flow()
    assert flow.contract == ExecutionContract(phases=tuple(PHASES))
    assert flow.pending_events[0].data["contract"] == flow.contract.to_data()
    assert Flow.replay(flow.pending_events).contract == flow.contract


def test_a_migration_keeps_run_phases_adds_new_ones_pending_and_is_one_replayable_event() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    run_next(flow, PhaseOutcome.completed({"n": 1}), tick)  # collect completed
    before = flow.version
    event = flow.migrate(V2, KEEP_ALL, actor="ops", at=tick())
    assert (event.operation, event.from_status, event.to_status) == (Operation.MIGRATE, "running", "running")
    assert flow.version == before + 1 == len(flow.pending_events)
    assert flow.phase_names == ["collect", "review", "summarise", "publish"]
    assert states(flow) == {
        "collect": PhaseState.COMPLETED,
        "review": PhaseState.PENDING,
        "summarise": PhaseState.PENDING,
        "publish": PhaseState.PENDING,
    }
    assert flow.phase_results["collect"] == {"n": 1}
    assert (flow.contract.version, flow.current_phase) == (2, "review")
    assert event.data["migration"] == {
        "from_version": 1,
        "to_version": 2,
        "kept": ["collect", "review", "publish"],
        "added": ["summarise"],
        "dropped": [],
    }
    replayed = Flow.replay(flow.pending_events)
    assert replayed == flow
    assert (replayed.contract, replayed.phase_names) == (flow.contract, flow.phase_names)


def test_a_migration_keeps_the_engine_the_flow_was_created_with() -> None:
    flow = Flow.create(
        flow_id=new_flow().flow_id,
        tenant=new_flow().tenant,
        flow_type="fake",
        name="f",
        phases=PHASES,
        configuration={},
        actor="t",
        at=new_flow().created_at,
        contract=ExecutionContract(phases=tuple(PHASES), bridged=True),
    )
    flow.migrate(V2, KEEP_ALL, actor="ops", at=flow.created_at)
    assert flow.contract.bridged is True and flow.contract.version == 2


def test_a_phase_not_yet_run_may_be_dropped_when_the_mapping_declares_it() -> None:
    flow, tick = flow_in(FlowStatus.WAITING_FOR_INPUT)  # collect completed, review waits for input
    flow.migrate(V3_WITHOUT_PUBLISH, DROP_PUBLISH, actor="ops", at=tick())
    assert states(flow) == {"collect": PhaseState.COMPLETED, "review": PhaseState.RUNNING}
    assert (flow.status, flow.current_phase, flow.waiting_for()) == (FlowStatus.WAITING_FOR_INPUT, "review", "review")
    assert Flow.replay(flow.pending_events) == flow


def refusal(flow: Flow, target: ExecutionContract, mapping: PhaseMapping | None) -> str:
    version, events = flow.version, len(flow.pending_events)
    with pytest.raises(MigrationRefused) as refused:
        flow.migrate(target, mapping, actor="ops", at=flow.updated_at)
    assert (flow.version, len(flow.pending_events)) == (version, events)  # nothing recorded
    assert (refused.value.from_version, refused.value.to_version) == (flow.contract.version, target.version)
    return refused.value.reason


def test_dropping_a_completed_phase_is_refused_saying_why() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    for _ in range(2):  # collect, then review (completed without input here)
        run_next(flow, PhaseOutcome.completed({}), tick)
    target = ExecutionContract(version=2, phases=("collect", "publish"))
    reason = refusal(flow, target, PhaseMapping(dropped=frozenset({"review"})))
    assert reason == "phase 'review' is completed and version 2 drops it: only a phase not yet run may be dropped"


def test_a_phase_the_mapping_does_not_drop_cannot_disappear() -> None:
    flow, _ = flow_in(FlowStatus.INITIALIZED)
    reason = refusal(flow, V3_WITHOUT_PUBLISH, KEEP_ALL)
    assert reason == "version 3 has no phase 'publish' and its mapping does not drop it"


def test_a_version_that_declares_no_migration_from_the_flows_is_refused() -> None:
    flow, _ = flow_in(FlowStatus.INITIALIZED)
    assert refusal(flow, V2, None) == "version 2 declares no migration from version 1"
    assert refusal(flow, ExecutionContract(version=1, phases=tuple(PHASES)), KEEP_ALL) == (
        "the flow already runs under version 1"
    )


def test_a_flow_running_a_phase_is_refused_until_the_attempt_ends() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    claim(flow, tick)
    assert refusal(flow, V2, KEEP_ALL) == (
        "phase 'collect' is running (attempt 1): migrate it once the attempt has ended"
    )


def test_a_flow_waiting_for_input_to_a_phase_the_new_version_takes_none_for_is_refused() -> None:
    flow, _ = flow_in(FlowStatus.WAITING_FOR_INPUT)
    no_input = ExecutionContract(version=2, phases=tuple(PHASES), input_phases=())
    assert refusal(flow, no_input, KEEP_ALL) == (
        "the flow waits for input to phase 'review', which version 2 does not take input for"
    )


def test_a_running_flow_left_without_a_pending_phase_is_refused() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    for _ in range(2):
        run_next(flow, PhaseOutcome.completed({}), tick)
    assert refusal(flow, V3_WITHOUT_PUBLISH, DROP_PUBLISH) == "a running flow would have no phase left to run"


@pytest.mark.parametrize("status", [FlowStatus.COMPLETED, FlowStatus.CANCELLED, FlowStatus.DELETED])
def test_a_flow_that_ended_cannot_migrate(status: FlowStatus) -> None:
    flow, _ = flow_in(status)
    with pytest.raises(IllegalTransition) as raised:
        flow.migrate(V2, KEEP_ALL, actor="ops", at=flow.updated_at)
    assert (raised.value.current_status, raised.value.operation) == (status, "migrate")


def test_a_dry_runs_plan_is_what_the_migration_then_does() -> None:
    flow, tick = flow_in(FlowStatus.PAUSED)
    plan = flow.migration_plan(V2, KEEP_ALL)
    assert plan == MigrationPlan(1, 2, V2.phases, ("collect", "review", "publish"), ("summarise",), ())
    assert flow.version == 3 and flow.contract.version == 1  # nothing changed
    event = flow.migrate(V2, KEEP_ALL, actor="ops", at=tick())
    assert MigrationPlan.from_data(event.data["migration"], flow.phase_names) == plan
