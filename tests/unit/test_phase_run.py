"""A phase's run in the aggregate: its claim, how each attempt ends, the next attempt, and when a worker is due.

Every change is one event; replaying the events rebuilds the flow (domain/flow.py, domain/background.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.background import due_at
from domain.errors import IllegalTransition, StaleRun, VersionConflict
from domain.flow import AttemptEnd, Flow, PhaseRun, failed_after_attempts
from domain.lifecycle import FlowStatus, Operation, PhaseState
from domain.phases import PhaseOutcome
from tests.unit.flow_builders import Ticker, claim, end, flow_in, run_next, running_flow

S = FlowStatus
RETRY_TEXT = "POST .../retry runs it again"


def fail_attempt(flow: Flow, tick: Ticker, error: str, retry_in: float | None = 5.0) -> datetime | None:
    """End the attempt in progress with ``error``; the next attempt ``retry_in`` seconds later (None: none)."""
    retry_at = None if retry_in is None else tick.at + timedelta(seconds=retry_in)
    end(flow, AttemptEnd.failed(error, retry_at), tick)
    return retry_at


def assert_replays(flow: Flow) -> None:
    assert flow.version == len(flow.pending_events)
    assert [e.version for e in flow.pending_events] == list(range(1, flow.version + 1))
    assert Flow.replay(flow.pending_events) == flow


# -- when a worker is due -----------------------------------------------------------------------


def test_a_flow_not_running_is_never_due() -> None:
    for status in (S.INITIALIZED, S.PAUSED, S.WAITING_FOR_INPUT, S.FAILED, S.COMPLETED, S.CANCELLED, S.DELETED):
        flow, _ = flow_in(status)
        flow.auto_run = True  # even one started to run by itself
        assert due_at(flow) is None, status


def test_an_auto_run_flow_with_a_pending_phase_is_due_since_its_last_change() -> None:
    flow, tick = flow_in(S.INITIALIZED)
    flow.start(actor="t", at=tick(), auto_run=True)
    assert due_at(flow) == flow.updated_at
    run_next(flow, PhaseOutcome.completed({}), tick)
    assert flow.status == S.RUNNING and due_at(flow) == flow.updated_at  # its next phase, at once


def test_a_flow_run_by_its_callers_is_not_due() -> None:
    flow, _ = flow_in(S.RUNNING)
    assert flow.auto_run is False and due_at(flow) is None


def test_an_auto_run_flow_without_a_pending_phase_is_not_due() -> None:
    flow, tick = flow_in(S.INITIALIZED)
    flow.start(actor="t", at=tick(), auto_run=True)
    for phase in flow.phases:  # not reachable through transitions: the guard for a corrupt flow
        phase.state = PhaseState.COMPLETED
    assert due_at(flow) is None


def test_an_attempt_in_progress_is_not_due_its_lease_covers_it() -> None:
    flow, tick = flow_in(S.INITIALIZED)
    flow.start(actor="t", at=tick(), auto_run=True)
    claim(flow, tick)
    assert due_at(flow) is None


def test_a_failed_attempt_makes_the_phase_due_at_its_next_attempts_time() -> None:
    flow, tick = running_flow()
    retry_at = fail_attempt(flow, tick, "broke")
    assert retry_at is not None and due_at(flow) == retry_at
    flow.auto_run = True  # the next attempt's time, not the flow's last change, for an auto-run flow too
    assert due_at(flow) == retry_at


def test_a_paused_flow_is_not_due_and_its_resume_makes_it_due_again() -> None:
    flow, tick = running_flow(retrying=True, paused=True)
    assert due_at(flow) is None
    flow.resume(actor="t", at=tick())
    assert flow.run is not None and due_at(flow) == flow.run.retry_at


# -- claiming a phase -----------------------------------------------------------------------------


def test_claiming_the_next_phase_runs_it_as_attempt_1_in_one_event() -> None:
    flow, tick = flow_in(S.RUNNING)
    version, run_id, at = flow.version, uuid4(), tick()
    event = flow.claim_phase(Operation.EXECUTE_PHASE, run_id=run_id, actor="alice", at=at)
    assert (event.operation, event.from_status, event.to_status, event.actor, event.occurred_at) == (
        Operation.EXECUTE_PHASE,
        S.RUNNING,
        S.RUNNING,
        "alice",
        at,
    )
    assert (flow.version, event.version, flow.updated_at) == (version + 1, version + 1, at)
    assert flow.run == PhaseRun("collect", 1, run_id, at)
    assert flow.run.in_progress
    assert event.data["run"] == flow.run.to_data()
    assert (flow.current_phase, flow.error) == ("collect", None)
    assert [p.state for p in flow.phases] == [PhaseState.RUNNING, PhaseState.PENDING, PhaseState.PENDING]
    assert "phase_results" not in event.data


def test_claiming_a_named_phase_skips_the_pending_phases_before_it() -> None:
    flow, tick = flow_in(S.RUNNING)
    run_id = claim(flow, tick, phase="review")
    assert flow.run is not None and (flow.run.phase, flow.run.run_id) == ("review", run_id)
    assert [p.state for p in flow.phases] == [PhaseState.SKIPPED, PhaseState.RUNNING, PhaseState.PENDING]
    assert flow.current_phase == "review"


def test_claiming_a_retry_runs_the_failed_phase_again_and_clears_the_error() -> None:
    flow, tick = flow_in(S.RUNNING)
    run_next(flow, PhaseOutcome.failed("bad data"), tick, phase="review")
    assert (flow.status, flow.error) == (S.FAILED, "bad data")
    run_id = claim(flow, tick, Operation.RETRY)
    event = flow.pending_events[-1]
    assert (event.operation, event.from_status, event.to_status) == (Operation.RETRY, S.FAILED, S.RUNNING)
    assert flow.run is not None and (flow.run.phase, flow.run.attempt, flow.run.run_id) == ("review", 1, run_id)
    assert (flow.status, flow.error, flow.current_phase) == (S.RUNNING, None, "review")
    # a retry skips nothing more: the phase skipped before the named one stays skipped, the later one pending
    assert [p.state for p in flow.phases] == [PhaseState.SKIPPED, PhaseState.RUNNING, PhaseState.PENDING]


def test_a_second_claim_while_a_phase_runs_is_refused_naming_the_running_phase() -> None:
    flow, tick = running_flow()
    version = flow.version
    with pytest.raises(IllegalTransition) as raised:
        claim(flow, tick)
    error = raised.value
    assert (error.flow_id, error.current_status, error.operation, error.reason) == (
        flow.flow_id,
        "running",
        "execute_phase",
        "phase 'collect' is running (attempt 1)",
    )
    assert "phase 'collect' is running" in str(error)
    with pytest.raises(IllegalTransition):
        claim(flow, tick, phase="publish")  # a named phase neither
    assert flow.version == version and flow.phase_state("publish") == PhaseState.PENDING


def test_a_claim_between_two_attempts_is_refused_naming_the_attempt_due() -> None:
    flow, tick = running_flow(retrying=True)
    assert flow.run is not None
    with pytest.raises(IllegalTransition) as raised:
        claim(flow, tick)
    assert raised.value.reason == f"phase 'collect' is running (attempt 2 is due at {flow.run.retry_at})"


def test_a_claim_checks_the_version_and_the_status_first() -> None:
    flow, tick = flow_in(S.RUNNING)
    with pytest.raises(VersionConflict):
        flow.claim_phase(Operation.EXECUTE_PHASE, run_id=uuid4(), actor="t", at=tick(), expected_version=1)
    paused, tick = flow_in(S.PAUSED)
    with pytest.raises(IllegalTransition) as raised:
        claim(paused, tick)
    assert (raised.value.current_status, raised.value.operation) == ("paused", "execute_phase")
    assert (flow.run, paused.run) == (None, None)


# -- how an attempt ends ------------------------------------------------------------------------------


def test_a_completed_attempt_records_the_outcome_and_ends_the_run_in_one_event() -> None:
    flow, tick = running_flow()
    version, at = flow.version, tick()
    assert flow.run is not None and flow.run.run_id is not None
    event = flow.end_attempt(flow.run.run_id, AttemptEnd.of(PhaseOutcome.completed({"n": 2})), actor="w", at=at)
    assert (event.operation, event.from_status, event.to_status, event.actor) == (
        Operation.COMPLETE_PHASE,
        S.RUNNING,
        S.RUNNING,
        "w",
    )
    assert (flow.version, flow.updated_at, flow.run, event.data["run"]) == (version + 1, at, None, None)
    assert (event.data["attempt"], event.data["phase_results"]) == (1, {"collect": {"n": 2}})
    assert (flow.current_phase, flow.phase_state("collect"), flow.phase_results["collect"]) == (
        "review",
        PhaseState.COMPLETED,
        {"n": 2},
    )


def test_an_attempt_that_needs_input_leaves_the_flow_waiting_without_a_run() -> None:
    flow, tick = running_flow()
    end(flow, AttemptEnd.of(PhaseOutcome.needs_input({"ask": 1})), tick)
    assert (flow.status, flow.run, flow.current_phase) == (S.WAITING_FOR_INPUT, None, "collect")
    assert flow.phase_state("collect") == PhaseState.RUNNING


def test_the_last_phases_attempt_completes_the_flow() -> None:
    flow, tick = flow_in(S.RUNNING)
    run_next(flow, PhaseOutcome.completed({}), tick, phase="publish")
    assert (flow.status, flow.run, flow.current_phase) == (S.COMPLETED, None, None)


def test_a_failed_outcome_fails_the_flow_at_once_with_the_handlers_error() -> None:
    flow, tick = running_flow()
    end(flow, AttemptEnd.of(PhaseOutcome.failed("no rows")), tick)
    assert (flow.status, flow.error, flow.run) == (S.FAILED, "no rows", None)
    assert flow.phase_state("collect") == PhaseState.FAILED


def test_a_failed_attempt_with_one_left_keeps_the_phase_running_until_its_next_attempt() -> None:
    flow, tick = running_flow()
    assert flow.run is not None
    started, version = flow.run.started_at, flow.version
    retry_at = fail_attempt(flow, tick, "attempt 1 broke")
    event = flow.pending_events[-1]
    assert (event.operation, event.from_status, event.to_status) == (Operation.COMPLETE_PHASE, S.RUNNING, S.RUNNING)
    assert (event.actor, event.occurred_at, flow.updated_at) == ("tester", tick.at, tick.at)
    assert (event.data["attempt"], event.data["attempt_error"]) == (1, "attempt 1 broke")
    assert flow.version == version + 1
    assert flow.run == PhaseRun("collect", 1, None, None, retry_at=retry_at, errors=("attempt 1 broke",))
    assert not flow.run.in_progress and started is not None
    assert (flow.status, flow.error, flow.phase_state("collect"), flow.current_phase) == (
        S.RUNNING,
        None,
        PhaseState.RUNNING,
        "collect",
    )
    assert "phase_results" not in event.data


def test_the_next_attempt_begins_as_its_own_event_keeping_the_earlier_errors() -> None:
    flow, tick = running_flow(retrying=True)
    version, run_id, at = flow.version, uuid4(), tick()
    event = flow.reattempt_phase(run_id=run_id, actor="worker", at=at)
    assert (event.operation, event.from_status, event.to_status, event.actor) == (
        Operation.REATTEMPT_PHASE,
        S.RUNNING,
        S.RUNNING,
        "worker",
    )
    assert flow.version == version + 1
    assert flow.run == PhaseRun("collect", 2, run_id, at, retry_at=None, errors=("attempt 1 broke",))
    assert [p.state for p in flow.phases] == [PhaseState.RUNNING, PhaseState.PENDING, PhaseState.PENDING]


def test_an_attempt_begins_only_after_a_failed_one() -> None:
    flow, tick = running_flow()
    with pytest.raises(IllegalTransition) as raised:
        flow.reattempt_phase(run_id=uuid4(), actor="t", at=tick())
    assert (raised.value.operation, raised.value.reason) == (
        "reattempt_phase",
        "phase 'collect' is running (attempt 1)",
    )
    idle, tick = flow_in(S.RUNNING)
    with pytest.raises(IllegalTransition) as raised:
        idle.reattempt_phase(run_id=uuid4(), actor="t", at=tick())
    assert raised.value.reason == "no phase waits for another attempt"
    assert (raised.value.flow_id, raised.value.current_status) == (idle.flow_id, "running")
    paused, tick = running_flow(retrying=True, paused=True)
    with pytest.raises(IllegalTransition) as raised:
        paused.reattempt_phase(run_id=uuid4(), actor="t", at=tick())
    assert (raised.value.current_status, raised.value.reason) == ("paused", None)


def test_the_last_failed_attempt_fails_the_flow_naming_each_attempt() -> None:
    flow, tick = running_flow()
    fail_attempt(flow, tick, "a1")
    flow.reattempt_phase(run_id=uuid4(), actor="t", at=tick())
    fail_attempt(flow, tick, "a2")
    flow.reattempt_phase(run_id=uuid4(), actor="t", at=tick())
    fail_attempt(flow, tick, "a3", retry_in=None)
    expected = f"phase 'collect' failed after 3 attempts (attempt 1: a1; attempt 2: a2; attempt 3: a3); {RETRY_TEXT}"
    assert (flow.status, flow.error, flow.run) == (S.FAILED, expected, None)
    event = flow.pending_events[-1]
    assert (event.operation, event.actor, event.occurred_at) == (Operation.COMPLETE_PHASE, "tester", tick.at)
    assert flow.phase_state("collect") == PhaseState.FAILED
    assert flow.pending_events[-1].data["attempt"] == 3
    assert_replays(flow)


def test_a_single_attempt_that_gets_no_other_fails_the_flow_with_its_own_error() -> None:
    flow, tick = running_flow()
    fail_attempt(flow, tick, "phase 'collect' timed out after 1 s", retry_in=None)
    assert (flow.status, flow.error) == (S.FAILED, f"phase 'collect' timed out after 1 s; {RETRY_TEXT}")


def test_a_retry_after_failed_attempts_starts_again_at_attempt_1() -> None:
    flow, tick = running_flow()
    fail_attempt(flow, tick, "a1", retry_in=None)
    claim(flow, tick, Operation.RETRY)
    assert flow.run is not None and (flow.run.attempt, flow.run.errors) == (1, ())


# -- a flow paused while its phase runs ----------------------------------------------------------------


def test_a_phase_completed_while_paused_keeps_the_flow_paused_and_a_resume_runs_on() -> None:
    flow, tick = running_flow(paused=True)
    end(flow, AttemptEnd.of(PhaseOutcome.completed({"n": 1})), tick)
    event = flow.pending_events[-1]
    assert (event.from_status, event.to_status) == (S.PAUSED, S.PAUSED)
    assert (flow.status, flow.run, flow.current_phase, flow.phase_state("collect")) == (
        S.PAUSED,
        None,
        "review",
        PhaseState.COMPLETED,
    )
    flow.resume(actor="t", at=tick())
    assert flow.status == S.RUNNING


def test_a_phase_that_needs_input_while_paused_stays_paused_and_resumes_waiting() -> None:
    flow, tick = running_flow(paused=True)
    end(flow, AttemptEnd.of(PhaseOutcome.needs_input({})), tick)
    assert (flow.status, flow.run) == (S.PAUSED, None)
    flow.resume(actor="t", at=tick())
    assert (flow.status, flow.current_phase) == (S.WAITING_FOR_INPUT, "collect")


def test_a_flow_paused_while_its_last_phase_ran_completes_with_it() -> None:
    flow, tick = flow_in(S.RUNNING)
    claim(flow, tick, phase="publish")
    flow.pause(actor="t", at=tick())
    end(flow, AttemptEnd.of(PhaseOutcome.completed({})), tick)
    assert (flow.status, flow.pending_events[-1].from_status) == (S.COMPLETED, S.PAUSED)


def test_a_flow_paused_while_its_phase_failed_fails() -> None:
    flow, tick = running_flow(paused=True)
    end(flow, AttemptEnd.of(PhaseOutcome.failed("bad")), tick)
    assert (flow.status, flow.error) == (S.FAILED, "bad")
    other, tick = running_flow(paused=True)
    fail_attempt(other, tick, "broke", retry_in=None)
    assert (other.status, other.error) == (S.FAILED, f"broke; {RETRY_TEXT}")


def test_a_failed_attempt_while_paused_stays_paused_until_a_resume_makes_the_next_one_due() -> None:
    flow, tick = running_flow(paused=True)
    retry_at = fail_attempt(flow, tick, "broke")
    assert flow.status == S.PAUSED and flow.run is not None and flow.run.retry_at == retry_at
    assert due_at(flow) is None
    flow.resume(actor="t", at=tick())
    assert (flow.status, due_at(flow)) == (S.RUNNING, retry_at)


def test_a_resume_while_the_phase_still_runs_is_running() -> None:
    flow, tick = running_flow(paused=True)
    flow.resume(actor="t", at=tick())
    assert flow.status == S.RUNNING and flow.run is not None and flow.run.in_progress


# -- an attempt the flow no longer runs ---------------------------------------------------------------


def stale_end(flow: Flow, run_id: UUID, tick: Ticker) -> StaleRun:
    version = flow.version
    with pytest.raises(StaleRun) as raised:
        flow.end_attempt(run_id, AttemptEnd.of(PhaseOutcome.completed({})), actor="t", at=tick())
    assert flow.version == version  # nothing recorded
    assert (raised.value.flow_id, raised.value.run_id) == (flow.flow_id, run_id)
    assert str(raised.value).startswith(f"run {run_id} of flow {flow.flow_id} is no longer the flow's: ")
    return raised.value


@pytest.mark.parametrize("operation", ["cancel", "delete"])
def test_cancel_or_delete_ends_the_run_and_its_late_completion_is_stale(operation: str) -> None:
    flow, tick = running_flow()
    assert flow.run is not None and flow.run.run_id is not None
    run_id = flow.run.run_id
    event = getattr(flow, operation)(actor="t", at=tick())
    assert (flow.run, event.data["run"]) == (None, None)
    assert stale_end(flow, run_id, tick).reason == f"the flow is {flow.status}"
    assert_replays(flow)


def test_an_attempt_whose_successor_runs_is_stale() -> None:
    flow, tick = running_flow()
    assert flow.run is not None and flow.run.run_id is not None
    first = flow.run.run_id
    fail_attempt(flow, tick, "its worker stopped", retry_in=0)
    second = uuid4()
    flow.reattempt_phase(run_id=second, actor="t", at=tick())
    assert stale_end(flow, first, tick).reason == f"it runs {second} now"
    assert flow.run is not None and flow.run.run_id == second


def test_an_attempt_already_ended_is_stale_while_the_next_one_is_due() -> None:
    flow, tick = running_flow()
    assert flow.run is not None and flow.run.run_id is not None
    first = flow.run.run_id
    retry_at = fail_attempt(flow, tick, "its worker stopped")
    assert stale_end(flow, first, tick).reason == f"no attempt runs now (attempt 2 is due at {retry_at})"


def test_an_unknown_run_of_a_running_phase_is_stale() -> None:
    flow, tick = running_flow()
    assert flow.run is not None
    assert stale_end(flow, uuid4(), tick).reason == f"it runs {flow.run.run_id} now"


# -- replay ------------------------------------------------------------------------------------------


def test_replaying_every_kind_of_phase_event_rebuilds_the_flow() -> None:
    flow, tick = flow_in(S.INITIALIZED)
    flow.start(actor="t", at=tick(), auto_run=True)
    claim(flow, tick)  # execute_phase
    fail_attempt(flow, tick, "a1")  # complete_phase, a next attempt due
    assert_replays(flow)
    flow.reattempt_phase(run_id=uuid4(), actor="t", at=tick())  # reattempt_phase
    assert_replays(flow)
    flow.pause(actor="t", at=tick())  # paused while it runs
    end(flow, AttemptEnd.of(PhaseOutcome.completed({"n": 1})), tick)  # complete_phase in a paused flow
    flow.resume(actor="t", at=tick())
    run_next(flow, PhaseOutcome.failed("bad"), tick)
    claim(flow, tick, Operation.RETRY)  # retry
    assert_replays(flow)
    fail_attempt(flow, tick, "r1", retry_in=None)  # the last attempt failed
    claim(flow, tick, Operation.RETRY)
    flow.cancel(actor="t", at=tick())  # cancelled while it runs
    assert_replays(flow)
    assert [e.operation for e in flow.pending_events] == [
        "create", "start", "execute_phase", "complete_phase", "reattempt_phase", "pause", "complete_phase",
        "resume", "execute_phase", "complete_phase", "retry", "complete_phase", "retry", "cancel",
    ]  # fmt: skip
    replayed = Flow.replay(flow.pending_events)
    assert (replayed.run, replayed.phase_results, replayed.auto_run) == (
        None,
        {"collect": {"n": 1}, "review": {}},
        True,
    )


def test_a_replayed_flow_between_two_attempts_has_the_same_run() -> None:
    flow, _ = running_flow(retrying=True)
    replayed = Flow.replay(flow.pending_events)
    assert replayed.run == flow.run and replayed.run is not None and replayed.run.errors == ("attempt 1 broke",)
    assert due_at(replayed) == due_at(flow)


# -- a run's stored form and the error of a phase out of attempts --------------------------------------


def test_a_run_round_trips_through_its_data() -> None:
    at = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    run = PhaseRun("collect", 2, uuid4(), at, retry_at=at + timedelta(seconds=3), errors=("a", "b"))
    data = run.to_data()
    assert data == {
        "phase": "collect",
        "attempt": 2,
        "run_id": str(run.run_id),
        "started_at": at.isoformat(),
        "retry_at": (at + timedelta(seconds=3)).isoformat(),
        "errors": ["a", "b"],
    }
    assert PhaseRun.from_data(data) == run
    waiting = PhaseRun("review", 1, None, None, retry_at=at)
    assert waiting.to_data()["run_id"] is None and waiting.to_data()["started_at"] is None
    assert PhaseRun.from_data(waiting.to_data()) == waiting
    bare = PhaseRun("publish", 1, uuid4(), at)
    assert bare.to_data()["retry_at"] is None and bare.to_data()["errors"] == []
    assert PhaseRun.from_data(bare.to_data()) == bare


def test_a_run_is_read_from_sparse_data_and_no_data_is_no_run() -> None:
    assert PhaseRun.from_data(None) is None
    assert PhaseRun.from_data({}) is None
    assert PhaseRun.from_data({"phase": "p", "attempt": "3"}) == PhaseRun("p", 3, None, None, None, ())
    assert PhaseRun.from_data({"phase": "p", "attempt": 1, "errors": None}) == PhaseRun("p", 1, None, None)


def test_an_attempt_end_says_how_it_ended() -> None:
    outcome = PhaseOutcome.completed({})
    assert AttemptEnd.of(outcome) == AttemptEnd(outcome=outcome, error=None, retry_at=None)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert AttemptEnd.failed("x", at) == AttemptEnd(outcome=None, error="x", retry_at=at)
    assert AttemptEnd.failed("x", None) == AttemptEnd(outcome=None, error="x", retry_at=None)


def test_the_error_of_a_phase_out_of_attempts_names_each() -> None:
    assert failed_after_attempts("p", ["only"]) == f"only; {RETRY_TEXT}"
    assert failed_after_attempts("p", ("one", "two")) == (
        f"phase 'p' failed after 2 attempts (attempt 1: one; attempt 2: two); {RETRY_TEXT}"
    )
