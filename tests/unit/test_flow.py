from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import pytest

from domain.contract import ExecutionContract
from domain.errors import IllegalTransition, UnknownPhase, VersionConflict
from domain.flow import AttemptEnd, Flow, FlowSummary, Phase, progress_percent_of
from domain.lifecycle import FlowStatus, Operation, PhaseState
from domain.phases import PhaseOutcome, PhaseResultKind
from tests.unit.flow_builders import PHASES, TENANT, Ticker, apply, claim, end, flow_in, new_flow, run_next


def test_creation_is_the_first_event_and_sets_version_1() -> None:
    flow = new_flow()
    assert flow.version == 1
    assert [e.operation for e in flow.pending_events] == [Operation.CREATE]
    assert flow.status == FlowStatus.INITIALIZED
    assert [p.state for p in flow.phases] == [PhaseState.PENDING] * 3


def test_version_equals_event_count_and_replay_rebuilds_the_flow() -> None:
    flow, _tick = flow_in(FlowStatus.COMPLETED)
    assert flow.version == len(flow.pending_events)
    assert [e.version for e in flow.pending_events] == list(range(1, flow.version + 1))
    replayed = Flow.replay(flow.pending_events)
    assert replayed == flow
    assert replayed.phase_results == flow.phase_results


def test_a_phase_that_needs_input_waits_and_a_rejection_keeps_it_waiting() -> None:
    flow, tick = flow_in(FlowStatus.WAITING_FOR_INPUT)
    assert flow.current_phase == "review"
    assert flow.phase_state("review") == PhaseState.RUNNING
    apply(flow, Operation.SUBMIT_INPUT, tick, PhaseOutcome.needs_input({"rejections": 1}))
    assert flow.status == FlowStatus.WAITING_FOR_INPUT
    assert flow.phase_results["review"] == {"rejections": 1}


def test_the_last_phase_completes_the_flow() -> None:
    flow, _ = flow_in(FlowStatus.COMPLETED)
    assert flow.current_phase is None
    assert flow.progress_percent == 100
    assert all(p.state == PhaseState.COMPLETED for p in flow.phases)


def test_a_failed_phase_fails_the_flow_and_retry_reruns_it() -> None:
    flow, tick = flow_in(FlowStatus.FAILED)
    assert flow.error == "boom"
    assert flow.phase_state("collect") == PhaseState.FAILED
    assert flow.phase_to_retry() == "collect"
    run_next(flow, PhaseOutcome.failed("boom again"), tick, Operation.RETRY)
    assert (flow.status, flow.error) == (FlowStatus.FAILED, "boom again")
    run_next(flow, PhaseOutcome.completed({}), tick, Operation.RETRY)
    assert (flow.status, flow.error, flow.current_phase) == (FlowStatus.RUNNING, None, "review")
    assert flow.phase_state("collect") == PhaseState.COMPLETED


def test_a_named_phase_skips_the_pending_phases_before_it() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    assert flow.phase_to_execute("publish") == "publish"
    claim(flow, tick, phase="publish")
    assert [p.state for p in flow.phases] == [PhaseState.SKIPPED, PhaseState.SKIPPED, PhaseState.RUNNING]
    end(flow, AttemptEnd.of(PhaseOutcome.completed({})), tick)
    assert [p.state for p in flow.phases] == [PhaseState.SKIPPED, PhaseState.SKIPPED, PhaseState.COMPLETED]
    assert flow.status == FlowStatus.COMPLETED
    assert flow.progress_percent == 100


def test_a_phase_that_already_ran_cannot_be_named_and_an_unknown_one_is_an_error() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    run_next(flow, PhaseOutcome.completed({}), tick)
    with pytest.raises(IllegalTransition, match="already completed"):
        flow.phase_to_execute("collect")
    with pytest.raises(UnknownPhase):
        flow.phase_to_execute("nope")


def test_a_stale_expected_version_is_a_conflict_and_changes_nothing() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    with pytest.raises(VersionConflict) as raised:
        flow.pause(actor="t", at=tick(), expected_version=flow.version - 1)
    assert (raised.value.expected_version, raised.value.current_version) == (flow.version - 1, flow.version)
    assert flow.status == FlowStatus.RUNNING
    flow.pause(actor="t", at=Ticker()(), expected_version=flow.version)
    assert flow.status == FlowStatus.PAUSED


def test_events_record_who_what_from_to_version_and_when() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    at = tick()
    event = flow.pause(actor="alice", at=at)
    assert (event.actor, event.operation, event.from_status, event.to_status) == (
        "alice",
        Operation.PAUSE,
        FlowStatus.RUNNING,
        FlowStatus.PAUSED,
    )
    assert (event.version, event.occurred_at, flow.updated_at) == (flow.version, at, at)


def test_replay_needs_a_creation_event() -> None:
    flow, _ = flow_in(FlowStatus.PAUSED)
    with pytest.raises(ValueError, match="creation"):
        Flow.replay(flow.pending_events[1:])


def test_a_flow_paused_while_waiting_resumes_waiting() -> None:
    flow, tick = flow_in(FlowStatus.WAITING_FOR_INPUT)
    flow.pause(actor="t", at=tick())
    assert flow.status == FlowStatus.PAUSED
    with pytest.raises(IllegalTransition):
        flow.phase_awaiting_input()
    flow.resume(actor="t", at=tick())
    assert (flow.status, flow.current_phase) == (FlowStatus.WAITING_FOR_INPUT, "review")


# -- every check honours the version its caller expects ------------------------------------

CHECKED_CALLS: dict[str, tuple[FlowStatus, Callable[[Flow, Ticker, int], object]]] = {
    "start": (FlowStatus.INITIALIZED, lambda f, t, v: f.start(actor="t", at=t(), expected_version=v)),
    "pause": (FlowStatus.RUNNING, lambda f, t, v: f.pause(actor="t", at=t(), expected_version=v)),
    "resume": (FlowStatus.PAUSED, lambda f, t, v: f.resume(actor="t", at=t(), expected_version=v)),
    "cancel": (FlowStatus.RUNNING, lambda f, t, v: f.cancel(actor="t", at=t(), expected_version=v)),
    "delete": (FlowStatus.RUNNING, lambda f, t, v: f.delete(actor="t", at=t(), expected_version=v)),
    "phase_to_execute": (FlowStatus.RUNNING, lambda f, t, v: f.phase_to_execute(expected_version=v)),
    "named_phase_to_execute": (FlowStatus.RUNNING, lambda f, t, v: f.phase_to_execute("review", expected_version=v)),
    "phase_awaiting_input": (FlowStatus.WAITING_FOR_INPUT, lambda f, t, v: f.phase_awaiting_input(expected_version=v)),
    "phase_to_retry": (FlowStatus.FAILED, lambda f, t, v: f.phase_to_retry(expected_version=v)),
    "claim_phase": (
        FlowStatus.RUNNING,
        lambda f, t, v: f.claim_phase(Operation.EXECUTE_PHASE, run_id=uuid4(), actor="t", at=t(), expected_version=v),
    ),
    "claim_named_phase": (
        FlowStatus.RUNNING,
        lambda f, t, v: f.claim_phase(
            Operation.EXECUTE_PHASE, run_id=uuid4(), actor="t", at=t(), requested="review", expected_version=v
        ),
    ),
    "claim_retry": (
        FlowStatus.FAILED,
        lambda f, t, v: f.claim_phase(Operation.RETRY, run_id=uuid4(), actor="t", at=t(), expected_version=v),
    ),
}


@pytest.mark.parametrize("name", list(CHECKED_CALLS))
def test_a_stale_expected_version_is_refused_by_every_operation(name: str) -> None:
    status, call = CHECKED_CALLS[name]
    flow, tick = flow_in(status)
    version = flow.version
    with pytest.raises(VersionConflict) as raised:
        call(flow, tick, version - 1)
    assert (raised.value.flow_id, raised.value.expected_version, raised.value.current_version) == (
        flow.flow_id,
        version - 1,
        version,
    )
    assert (flow.status, flow.version, flow.run) == (status, version, None)
    call(flow, tick, version)  # the current version is accepted


# -- what each simple transition records -----------------------------------------------------

SIMPLE: dict[str, tuple[FlowStatus, FlowStatus]] = {
    "start": (FlowStatus.INITIALIZED, FlowStatus.RUNNING),
    "pause": (FlowStatus.RUNNING, FlowStatus.PAUSED),
    "resume": (FlowStatus.PAUSED, FlowStatus.RUNNING),
    "cancel": (FlowStatus.FAILED, FlowStatus.CANCELLED),
    "delete": (FlowStatus.FAILED, FlowStatus.DELETED),
}


@pytest.mark.parametrize("name", list(SIMPLE))
def test_a_simple_transition_records_its_actor_and_time_and_keeps_the_phases_and_error(name: str) -> None:
    before, after = SIMPLE[name]
    flow, tick = flow_in(before)
    error, phases, current = flow.error, [(p.name, p.state) for p in flow.phases], flow.current_phase
    at = tick()
    event = getattr(flow, name)(actor="alice", at=at)
    assert (event.actor, event.occurred_at, event.from_status, event.to_status) == ("alice", at, before, after)
    assert (flow.status, flow.updated_at, flow.error) == (after, at, error)
    assert [(p.name, p.state) for p in flow.phases] == phases
    if name != "start":
        assert flow.current_phase == current


def test_start_sets_the_first_pending_phase_current_and_runs_in_the_foreground_by_default() -> None:
    flow, tick = flow_in(FlowStatus.INITIALIZED)
    event = flow.start(actor="t", at=tick())
    assert (flow.current_phase, event.data["current_phase"]) == ("collect", "collect")
    assert flow.auto_run is False
    assert "auto_run" not in event.data
    auto, tick = flow_in(FlowStatus.INITIALIZED)
    assert auto.start(actor="t", at=tick(), auto_run=True).data["auto_run"] is True
    assert auto.auto_run is True


def test_creation_records_the_name_type_configuration_and_time() -> None:
    tick = Ticker()
    flow = new_flow(tick)
    assert (flow.flow_type, flow.name, flow.configuration) == ("fake", "f", {"k": 1})
    assert flow.updated_at == flow.created_at == flow.pending_events[0].occurred_at
    assert (flow.current_phase, flow.error, flow.phase_results, flow.auto_run) == (None, None, {}, False)


# -- no state is shared with what callers pass in or read out --------------------------------


def test_the_configuration_is_copied_into_the_event_and_the_flow() -> None:
    configuration = {"nested": {"a": 1}}
    flow = Flow.create(
        flow_id=uuid4(),
        tenant=TENANT,
        flow_type="fake",
        name="f",
        phases=["collect"],
        configuration=configuration,
        actor="t",
        at=Ticker()(),
    )
    configuration["nested"]["a"] = 2
    assert flow.pending_events[0].data["configuration"] == {"nested": {"a": 1}}
    flow.configuration["nested"]["a"] = 3
    assert flow.pending_events[0].data["configuration"] == {"nested": {"a": 1}}
    assert Flow.replay(flow.pending_events).configuration == {"nested": {"a": 1}}


def test_phase_results_and_extra_data_are_copied_into_the_event_and_the_flow() -> None:
    flow, tick = flow_in(FlowStatus.WAITING_FOR_INPUT)
    outcome = PhaseOutcome.completed({"nested": {"a": 1}})
    given = {"input": {"answer": [1]}}
    event = flow.record_phase_outcome(Operation.SUBMIT_INPUT, "review", outcome, actor="t", at=tick(), extra=given)
    outcome.result["nested"]["a"] = 2
    given["input"]["answer"].append(2)
    assert event.data["phase_results"] == {"review": {"nested": {"a": 1}}}
    assert event.data["input"] == {"answer": [1]}
    flow.phase_results["review"]["nested"]["a"] = 3
    assert event.data["phase_results"] == {"review": {"nested": {"a": 1}}}


# -- phase rules -------------------------------------------------------------------------------


def test_a_phase_outcome_records_its_actor_time_and_trace() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    run_id = claim(flow, tick)
    at = tick()
    traced = PhaseOutcome.completed({"n": 1}).with_trace(delegation_ms=5)
    event = flow.end_attempt(run_id, AttemptEnd.of(traced), actor="alice", at=at)
    assert (event.actor, event.occurred_at, flow.updated_at) == ("alice", at, at)
    assert event.data["trace"] == {"delegation_ms": 5}
    untraced = run_next(flow, PhaseOutcome.completed({}), tick)
    assert "trace" not in untraced.data


def test_a_phase_failing_without_an_error_gets_one_naming_it() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    run_next(flow, PhaseOutcome(PhaseResultKind.FAILED), tick)
    assert (flow.status, flow.error) == (FlowStatus.FAILED, "phase 'collect' failed")


def test_retry_reruns_the_failed_phase_not_the_first_one() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    run_next(flow, PhaseOutcome.completed({}), tick)
    run_next(flow, PhaseOutcome.failed("review broke"), tick)
    assert flow.phase_to_retry() == "review"
    claim(flow, tick, Operation.RETRY)
    assert (flow.current_phase, flow.phase_state("review"), flow.error) == ("review", PhaseState.RUNNING, None)
    end(flow, AttemptEnd.of(PhaseOutcome.completed({"ok": 1})), tick)
    assert (flow.status, flow.current_phase, flow.error) == (FlowStatus.RUNNING, "publish", None)
    assert [p.state for p in flow.phases] == [PhaseState.COMPLETED, PhaseState.COMPLETED, PhaseState.PENDING]


def test_a_named_phase_that_failed_is_retried_and_the_skipped_phases_stay_skipped() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    run_next(flow, PhaseOutcome.failed("x"), tick, phase="review")
    assert [p.state for p in flow.phases] == [PhaseState.SKIPPED, PhaseState.FAILED, PhaseState.PENDING]
    assert flow.phase_to_retry() == "review"
    run_next(flow, PhaseOutcome.completed({}), tick, Operation.RETRY)
    assert (flow.status, flow.current_phase) == (FlowStatus.RUNNING, "publish")
    assert [p.state for p in flow.phases] == [PhaseState.SKIPPED, PhaseState.COMPLETED, PhaseState.PENDING]


def test_a_phase_outcome_the_table_does_not_allow_is_refused() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    version = flow.version
    with pytest.raises(IllegalTransition) as raised:
        flow.record_phase_outcome(Operation.SUBMIT_INPUT, "collect", PhaseOutcome.completed({}), actor="t", at=tick())
    error = raised.value
    assert (error.flow_id, error.current_status, error.operation, error.reason) == (
        flow.flow_id,
        "running",
        "submit_input",
        "cannot end in 'running'",
    )
    assert (flow.status, flow.version, flow.phase_state("collect")) == (FlowStatus.RUNNING, version, PhaseState.PENDING)


def test_a_running_flow_without_a_pending_phase_has_nothing_to_execute() -> None:
    flow, _ = flow_in(FlowStatus.RUNNING)
    for phase in flow.phases:  # not reachable through transitions: the guard for a corrupt flow
        phase.state = PhaseState.COMPLETED
    assert flow.next_pending_phase() is None
    with pytest.raises(IllegalTransition) as raised:
        flow.phase_to_execute()
    error = raised.value
    assert (error.flow_id, error.current_status, error.operation, error.reason) == (
        flow.flow_id,
        "running",
        "execute_phase",
        "no phase is pending",
    )


def test_a_failed_flow_without_a_failed_phase_has_nothing_to_retry() -> None:
    flow, _ = flow_in(FlowStatus.FAILED)
    for phase in flow.phases:  # not reachable through transitions: the guard for a corrupt flow
        phase.state = PhaseState.COMPLETED
    with pytest.raises(IllegalTransition) as raised:
        flow.phase_to_retry()
    error = raised.value
    assert (error.flow_id, error.current_status, error.operation, error.reason) == (
        flow.flow_id,
        "failed",
        "retry",
        "no phase has failed",
    )


def test_a_phase_that_already_ran_names_the_flow_its_status_and_the_operation() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    run_next(flow, PhaseOutcome.completed({}), tick)
    with pytest.raises(IllegalTransition) as raised:
        flow.phase_to_execute("collect")
    error = raised.value
    assert (error.flow_id, error.current_status, error.operation, error.reason) == (
        flow.flow_id,
        "running",
        "execute_phase",
        "phase 'collect' is already completed",
    )


def test_an_unknown_phase_names_the_flow_the_phase_and_the_flows_phases() -> None:
    flow, _ = flow_in(FlowStatus.RUNNING)
    with pytest.raises(UnknownPhase) as raised:
        flow.phase_state("nope")
    assert (raised.value.flow_id, raised.value.phase, raised.value.phases) == (flow.flow_id, "nope", PHASES)


# -- queries -------------------------------------------------------------------------------------


def test_progress_counts_completed_and_skipped_phases() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    assert flow.progress_percent == 0
    run_next(flow, PhaseOutcome.completed({}), tick)
    assert flow.progress_percent == 33
    assert progress_percent_of([Phase("a", PhaseState.SKIPPED), Phase("b", PhaseState.FAILED)]) == 50
    assert progress_percent_of([]) == 100


def test_the_summary_is_the_flow_without_its_documents() -> None:
    flow, tick = flow_in(FlowStatus.INITIALIZED)
    flow.start(actor="t", at=tick(), auto_run=True)
    run_next(flow, PhaseOutcome.failed("boom"), tick)
    summary = flow.summary()
    assert summary == FlowSummary(
        flow_id=flow.flow_id,
        tenant=TENANT,
        flow_type="fake",
        name="f",
        status=FlowStatus.FAILED,
        current_phase="collect",
        phases=[Phase("collect", PhaseState.FAILED), Phase("review"), Phase("publish")],
        error="boom",
        created_at=flow.created_at,
        updated_at=flow.updated_at,
        version=4,
        auto_run=True,
        run=None,
        contract=ExecutionContract(phases=("collect", "review", "publish")),
    )
    assert type(summary) is FlowSummary  # without the configuration and the phase results
    assert flow.created_at < flow.updated_at
    summary.phases[0].state = PhaseState.COMPLETED  # a copy: the flow's phases are its own
    assert flow.phase_state("collect") == PhaseState.FAILED
    assert summary.progress_percent == 33


def test_replay_refuses_an_empty_log_and_one_not_starting_with_creation() -> None:
    with pytest.raises(ValueError) as raised:
        Flow.replay([])
    assert str(raised.value) == "a flow's event log must start with its creation"


def test_a_created_or_replayed_flow_was_loaded_at_no_version_and_the_loaded_version_is_not_its_state() -> None:
    flow, _ = flow_in(FlowStatus.RUNNING)
    assert flow.loaded_version == 0
    assert Flow.replay(list(flow.pending_events)).loaded_version == 0
    read = Flow.replay(list(flow.pending_events))
    read.loaded_version = 2
    assert read == flow and "loaded_version" not in repr(read)
    assert (read.configuration, read.phase_results) == ({"k": 1}, {})
