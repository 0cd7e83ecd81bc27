from __future__ import annotations

import pytest

from domain.errors import IllegalTransition, UnknownPhase, VersionConflict
from domain.flow import Flow
from domain.lifecycle import FlowStatus, Operation, PhaseState
from domain.phases import PhaseOutcome
from tests.unit.flow_builders import Ticker, apply, flow_in, new_flow, run_next


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
    apply(flow, Operation.RETRY, tick, PhaseOutcome.failed("boom again"))
    assert (flow.status, flow.error) == (FlowStatus.FAILED, "boom again")
    apply(flow, Operation.RETRY, tick)
    assert (flow.status, flow.error, flow.current_phase) == (FlowStatus.RUNNING, None, "review")
    assert flow.phase_state("collect") == PhaseState.COMPLETED


def test_a_named_phase_skips_the_pending_phases_before_it() -> None:
    flow, tick = flow_in(FlowStatus.RUNNING)
    phase = flow.phase_to_execute("publish")
    flow.record_phase_outcome(Operation.EXECUTE_PHASE, phase, PhaseOutcome.completed({}), actor="t", at=tick())
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
