"""Build domain flows in any status, through the aggregate's own transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from domain.events import Tenant
from domain.flow import Flow
from domain.lifecycle import FlowStatus, Operation
from domain.phases import PhaseOutcome

PHASES = ["collect", "review", "publish"]
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


def run_next(flow: Flow, outcome: PhaseOutcome, tick: Ticker) -> None:
    phase = flow.phase_to_execute()
    flow.record_phase_outcome(Operation.EXECUTE_PHASE, phase, outcome, actor="tester", at=tick())


def flow_in(status: FlowStatus) -> tuple[Flow, Ticker]:
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
    assert flow.status == status
    return flow, tick


def apply(flow: Flow, operation: Operation, tick: Ticker, outcome: PhaseOutcome | None = None) -> None:
    """Apply one operation the way the orchestrator does, with a completed phase outcome by default."""
    outcome = outcome or PhaseOutcome.completed({"via": str(operation)})
    if operation == Operation.EXECUTE_PHASE:
        phase = flow.phase_to_execute()
    elif operation == Operation.SUBMIT_INPUT:
        phase = flow.phase_awaiting_input()
    elif operation == Operation.RETRY:
        phase = flow.phase_to_retry()
    else:
        getattr(flow, str(operation))(actor="tester", at=tick())
        return
    flow.record_phase_outcome(operation, phase, outcome, actor="tester", at=tick())
