"""Build domain flows in any status, through the aggregate's own transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from domain.contract import ExecutionContract, PhaseMapping
from domain.events import FlowEvent, Tenant
from domain.flow import AttemptEnd, Flow
from domain.lifecycle import FlowStatus, Operation
from domain.phases import PhaseOutcome

PHASES = ["collect", "review", "publish"]
VERSION_2 = ExecutionContract(version=2, phases=(*PHASES, "archive"), input_phases=("review",))
"""Version 2 of the builders' flow type: a phase added at the end; ``review`` takes input."""
TO_VERSION_2 = PhaseMapping()
TENANT = Tenant(uuid4(), uuid4())
_T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Ticker:
    def __init__(self) -> None:
        self.at = _T0

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


def new_flow(tick: Ticker | None = None) -> Flow:
    tick = tick or Ticker()
    return Flow.create(
        flow_id=uuid4(),
        tenant=TENANT,
        flow_type="fake",
        name="f",
        phases=PHASES,
        configuration={"k": 1},
        actor="tester",
        at=tick(),
    )


def claim(flow: Flow, tick: Ticker, operation: Operation = Operation.EXECUTE_PHASE, phase: str | None = None) -> UUID:
    """Begin running the next (or the named, or for ``retry`` the failed) phase: the new attempt's run id."""
    run_id = uuid4()
    flow.claim_phase(operation, run_id=run_id, actor="tester", at=tick(), requested=phase)
    return run_id


def end(flow: Flow, end: AttemptEnd, tick: Ticker) -> FlowEvent:
    """End the attempt in progress as ``end`` says."""
    assert flow.run is not None and flow.run.run_id is not None
    return flow.end_attempt(flow.run.run_id, end, actor="tester", at=tick())


def run_next(
    flow: Flow,
    outcome: PhaseOutcome,
    tick: Ticker,
    operation: Operation = Operation.EXECUTE_PHASE,
    phase: str | None = None,
) -> FlowEvent:
    """Run a phase as phase execution does: its claim, then its completion with ``outcome`` (two events)."""
    claim(flow, tick, operation, phase)
    return end(flow, AttemptEnd.of(outcome), tick)


def flow_in(status: FlowStatus) -> tuple[Flow, Ticker]:
    """A flow in ``status`` with no phase running."""
    tick = Ticker()
    flow = new_flow(tick)
    if status == FlowStatus.INITIALIZED:
        return flow, tick
    if status == FlowStatus.DELETED:
        flow.delete(actor="tester", at=tick())
        return flow, tick
    flow.start(actor="tester", at=tick())
    if status == FlowStatus.PAUSED:
        flow.pause(actor="tester", at=tick())
    elif status == FlowStatus.CANCELLED:
        flow.cancel(actor="tester", at=tick())
    elif status == FlowStatus.FAILED:
        run_next(flow, PhaseOutcome.failed("boom"), tick)
    elif status in (FlowStatus.WAITING_FOR_INPUT, FlowStatus.COMPLETED):
        run_next(flow, PhaseOutcome.completed({"n": 1}), tick)
        run_next(flow, PhaseOutcome.needs_input({"proposal": 1}), tick)
        if status == FlowStatus.COMPLETED:
            phase = flow.phase_awaiting_input()
            flow.record_phase_outcome(
                Operation.SUBMIT_INPUT, phase, PhaseOutcome.completed({"ok": True}), actor="tester", at=tick()
            )
            run_next(flow, PhaseOutcome.completed({"done": True}), tick)
    assert flow.status == status and flow.run is None
    return flow, tick


def running_flow(*, paused: bool = False, retrying: bool = False) -> tuple[Flow, Ticker]:
    """A running flow whose first phase is running: an attempt in progress, or (``retrying``) its first attempt
    failed and the second is due; ``paused`` after that."""
    flow, tick = flow_in(FlowStatus.RUNNING)
    claim(flow, tick)
    if retrying:
        end(flow, AttemptEnd.failed("attempt 1 broke", tick.at + timedelta(seconds=5)), tick)
    if paused:
        flow.pause(actor="tester", at=tick())
    return flow, tick


def apply(flow: Flow, operation: Operation, tick: Ticker, outcome: PhaseOutcome | None = None) -> None:
    """Apply one operation (one event), the phase's outcome a completed one by default: ``execute_phase`` and
    ``retry`` claim their phase, ``complete_phase`` ends the attempt in progress (of a made-up run when there is
    none), ``reattempt_phase`` begins the next attempt."""
    outcome = outcome or PhaseOutcome.completed({"via": str(operation)})
    if operation in (Operation.EXECUTE_PHASE, Operation.RETRY):
        claim(flow, tick, operation)
    elif operation == Operation.COMPLETE_PHASE:
        run_id = flow.run.run_id if flow.run is not None and flow.run.run_id is not None else uuid4()
        flow.end_attempt(run_id, AttemptEnd.of(outcome), actor="tester", at=tick())
    elif operation == Operation.REATTEMPT_PHASE:
        flow.reattempt_phase(run_id=uuid4(), actor="tester", at=tick())
    elif operation == Operation.MIGRATE:
        flow.migrate(VERSION_2, TO_VERSION_2, actor="tester", at=tick())
    elif operation == Operation.SUBMIT_INPUT:
        phase = flow.phase_awaiting_input()
        flow.record_phase_outcome(operation, phase, outcome, actor="tester", at=tick())
    else:
        getattr(flow, str(operation))(actor="tester", at=tick())
