"""The reference model: what each operation must do, built on the domain's transition table alone.

A ``ModelFlow`` is the part of a flow every view must agree on: its status, version, phase states, the phase it
runs (``run``: which attempt, held by which run id, or waiting for its next attempt) and the attempts recorded so
far. ``predict`` says, for a client's operation, either the exact error (class and HTTP status) or the possible next
states; the ``predict_*`` functions do the same for the parts of phase execution the harness drives one at a time
(a claim, a completion with a chosen ending, a runner's claim of due work, the takeover of an expired lease).

Only a phase's handler can fail it, and only the phase structure decides where a success leads (an input phase
waits; the last phase completes), so a handler's attempt has two possible results and every other step one.
An executed phase is two events: its claim, then its completion.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from uuid import UUID

from domain.background import AttemptResult
from domain.lifecycle import FlowStatus, Operation, PhaseState, allowed_targets

S = FlowStatus
R = AttemptResult

ERROR_STATUS = {
    "IllegalTransition": 409,
    "VersionConflict": 409,
    "FlowNotFound": 404,
    "StorageUnavailable": 503,
    "InternalError": 500,
    "ValidationError": 422,
}


class End(StrEnum):
    """How the harness ends a claimed attempt (``complete_run``'s ``AttemptEnd``). A success is always the
    handler's own (later phases read its results)."""

    HANDLER = "handler"
    """Whatever the type's handler returns (``run_claimed``): its success (completed, or waiting for input), or a
    failed outcome."""
    FAILED = "failed"
    """A failed outcome: the handler judged the flow's data (the flow fails at once)."""
    RETRY_DUE = "retry_due"
    """The attempt raised; its next attempt is due now."""
    RETRY_LATER = "retry_later"
    """The attempt raised; its next attempt is due in an hour."""
    GAVE_UP = "gave_up"
    """The attempt raised and no attempt is left (the flow fails)."""


@dataclass(frozen=True)
class ModelRun:
    phase: str
    attempt: int
    run_id: UUID | None
    """The attempt in progress (None between a failed attempt and the next)."""
    owner: str | None = None
    """Who holds its lease."""
    errors: int = 0
    """How many earlier attempts failed."""
    due: bool = False
    """Between attempts: whether the next is due now."""
    lease_expired: bool = False

    def key(self) -> tuple:
        return (self.phase, self.attempt, self.run_id, self.run_id is None, self.errors)


@dataclass(frozen=True)
class ModelAttempt:
    phase: str
    attempt: int
    run_id: UUID | None
    """None for an attempt run inline (by ``execute`` or ``retry``), whose id the harness never held."""
    owner: str | None
    result: str | None = None


@dataclass(frozen=True)
class ModelFlow:
    flow_type: str
    phases: tuple[str, ...]
    input_phases: tuple[str, ...]
    max_attempts: tuple[int, ...] = ()
    status: FlowStatus = S.INITIALIZED
    version: int = 1
    states: tuple[PhaseState, ...] = ()
    current_phase: str | None = None
    auto_run: bool = False
    run: ModelRun | None = None
    attempts: tuple[ModelAttempt, ...] = field(default=(), compare=False)

    @classmethod
    def created(
        cls, flow_type: str, phases: tuple[str, ...], input_phases: tuple[str, ...], max_attempts: tuple[int, ...]
    ) -> ModelFlow:
        return cls(flow_type, phases, input_phases, max_attempts, states=(PhaseState.PENDING,) * len(phases))

    def key(self) -> tuple:
        run = self.run.key() if self.run else None
        return (self.status, self.version, self.current_phase, self.states, self.auto_run, run)

    @property
    def next_pending(self) -> str | None:
        return next((p for p, s in zip(self.phases, self.states, strict=True) if s == PhaseState.PENDING), None)

    @property
    def in_progress(self) -> UUID | None:
        """The run id of the attempt in progress, if there is one."""
        return self.run.run_id if self.run else None

    def _state(self, phase: str) -> PhaseState:
        return self.states[self.phases.index(phase)]

    def _with(self, status: FlowStatus, **changes: object) -> ModelFlow:
        return replace(self, status=status, version=self.version + 1, **changes)  # type: ignore[arg-type]

    def _claimed(self, phase: str, run_id: UUID | None, owner: str | None, attempt: int = 1) -> ModelFlow:
        states = list(self.states)
        states[self.phases.index(phase)] = PhaseState.RUNNING
        run = ModelRun(phase, attempt, run_id, owner, self.run.errors if self.run else 0)
        return self._with(
            S.RUNNING,
            states=tuple(states),
            current_phase=phase,
            run=run,
            attempts=(*self.attempts, ModelAttempt(phase, attempt, run_id, owner)),
        )

    def _ended(self, result: str, run_id: UUID | None = None) -> ModelFlow:
        """The attempt ``run_id`` (default: the last, the one in progress) recorded as ended with ``result``."""
        attempts = list(self.attempts)
        at = next(i for i in reversed(range(len(attempts))) if run_id is None or attempts[i].run_id == run_id)
        attempts[at] = replace(attempts[at], result=result)
        return replace(self, attempts=tuple(attempts))

    def _discarded(self, run_id: UUID) -> ModelFlow:
        """A late completion of ``run_id``: its attempt says so unless it ended otherwise (completed, failed)."""
        attempt = next((a for a in self.attempts if a.run_id == run_id), None)
        if attempt is None or attempt.result not in (None, R.REVOKED, R.RETRYING):
            return self
        return self._ended(R.DISCARDED, run_id)

    def _phase_ended(self, phase: str, result: PhaseState) -> ModelFlow:
        """``phase`` completed, waits for input (``RUNNING``) or failed; a paused flow stays paused unless it ended."""
        states = list(self.states)
        states[self.phases.index(phase)] = result
        current: str | None = phase
        if result == PhaseState.COMPLETED:
            current = next((p for p, s in zip(self.phases, states, strict=True) if s == PhaseState.PENDING), None)
            status = S.RUNNING if current else S.COMPLETED
        else:
            status = S.WAITING_FOR_INPUT if result == PhaseState.RUNNING else S.FAILED
        if self.status == S.PAUSED and status in (S.RUNNING, S.WAITING_FOR_INPUT):
            status = S.PAUSED
        return self._with(status, states=tuple(states), current_phase=current, run=None)

    def _outcome(self, end: End) -> tuple[ModelFlow, ...]:
        """The flow after its attempt in progress ended as ``end``."""
        run = self.run
        assert run is not None
        if end in (End.RETRY_DUE, End.RETRY_LATER):
            waiting = replace(
                run, run_id=None, owner=None, errors=run.errors + 1, due=end == End.RETRY_DUE, lease_expired=False
            )
            return (self._with(self.status, run=waiting)._ended(R.RETRYING),)
        success = PhaseState.RUNNING if run.phase in self.input_phases else PhaseState.COMPLETED
        ended = [(PhaseState.FAILED, R.FAILED)]
        if end == End.HANDLER:
            ended.insert(0, (success, R.NEEDS_INPUT if success == PhaseState.RUNNING else R.COMPLETED))
        return tuple(self._phase_ended(run.phase, state)._ended(result) for state, result in ended)

    def _lost_worker(self) -> ModelFlow:
        """Its attempt in progress lost its lease: failed, and attempted again at once (the harness's policies have no
        backoff) unless it was the last."""
        run = self.run
        assert run is not None
        if run.attempt < self.max_attempts[self.phases.index(run.phase)]:
            return self._outcome(End.RETRY_DUE)[0]
        return self._outcome(End.GAVE_UP)[0]


@dataclass(frozen=True)
class Prediction:
    error: str | None = None
    outcomes: tuple[ModelFlow, ...] = field(default_factory=tuple)
    none: bool = False
    """The call returns None (nothing claimed, a completion discarded); ``outcomes`` has the one model after it."""

    @property
    def http_status(self) -> int | None:
        return ERROR_STATUS[self.error] if self.error else None


def predict(
    flow: ModelFlow,
    operation: Operation,
    expected_version: int | None = None,
    *,
    auto_run: bool = False,
    owner: str | None = None,
    chains: bool = False,
) -> Prediction:
    """What a client's ``operation`` must do to ``flow``: an error, or one of the possible next states.

    ``execute_phase`` and ``retry`` claim the phase (leased to ``owner``), run its handler and complete it; when
    ``chains`` (a runner ran it), an auto-run flow goes straight on with its next phases."""
    if expected_version is not None and expected_version != flow.version:
        return Prediction(error="VersionConflict")
    targets = allowed_targets(flow.status, operation)
    if not targets:
        return Prediction(error="IllegalTransition")
    if operation == Operation.START:
        started = flow._with(S.RUNNING, current_phase=flow.next_pending, auto_run=auto_run)
        return Prediction(outcomes=(started,))
    if operation == Operation.PAUSE:
        return Prediction(outcomes=(flow._with(S.PAUSED),))
    if operation in (Operation.CANCEL, Operation.DELETE):
        stopped = flow._ended(R.REVOKED) if flow.in_progress else flow
        return Prediction(outcomes=(stopped._with(next(iter(targets)), run=None),))
    if operation == Operation.RESUME:
        phase = flow.current_phase
        waiting = flow.run is None and phase is not None and flow._state(phase) == PhaseState.RUNNING
        return Prediction(outcomes=(flow._with(S.WAITING_FOR_INPUT if waiting else S.RUNNING),))
    if operation == Operation.SUBMIT_INPUT:
        phase = flow.current_phase
        assert phase is not None
        ends = (PhaseState.COMPLETED, PhaseState.RUNNING, PhaseState.FAILED)
        return Prediction(outcomes=tuple(flow._phase_ended(phase, s) for s in ends))
    if flow.run is not None:  # execute_phase while a phase runs
        return Prediction(error="IllegalTransition")
    claimed = _claim(flow, operation, None, owner)
    outcomes = claimed._outcome(End.HANDLER)
    while chains:
        going_on = tuple(o for o in outcomes if _next_phase_due(o))
        if not going_on:
            break
        outcomes = tuple(o for o in outcomes if not _next_phase_due(o)) + tuple(
            after for o in going_on for after in _claim(o, Operation.EXECUTE_PHASE, None, owner)._outcome(End.HANDLER)
        )
    return Prediction(outcomes=outcomes)


def _claim(flow: ModelFlow, operation: Operation, run_id: UUID | None, owner: str | None) -> ModelFlow:
    if operation == Operation.RETRY:
        phase = next(p for p, s in zip(flow.phases, flow.states, strict=True) if s == PhaseState.FAILED)
    else:
        phase = flow.next_pending
        assert phase is not None
    return flow._claimed(phase, run_id, owner)


def _next_phase_due(flow: ModelFlow) -> bool:
    return flow.status == S.RUNNING and flow.run is None and flow.auto_run and flow.next_pending is not None


def predict_claim(
    flow: ModelFlow, operation: Operation, run_id: UUID, owner: str, expected_version: int | None = None
) -> Prediction:
    """``claim_phase``: ``execute_phase`` (the next pending phase) or ``retry`` (the failed one) leased to ``owner``
    as ``run_id`` (the id the claim returned)."""
    refused = predict(flow, operation, expected_version)
    if refused.error is not None:
        return refused
    return Prediction(outcomes=(_claim(flow, operation, run_id, owner),))


def predict_completion(flow: ModelFlow, run_id: UUID, end: End) -> Prediction:
    """``complete_run`` of the attempt ``run_id``: its ending recorded, or, when the flow no longer runs that
    attempt (cancelled, deleted, taken over), only its discarding."""
    if flow.in_progress is None or flow.in_progress != run_id:
        return Prediction(outcomes=(flow._discarded(run_id),), none=True)
    return Prediction(outcomes=flow._outcome(end))


def predict_claim_due(flow: ModelFlow, run_id: UUID, owner: str, tenant_full: bool) -> Prediction:
    """``claim_due`` of a flow (no expired lease): an auto-run flow's next phase, or the next attempt of a phase
    whose attempt failed, once due; nothing when the flow has nothing due or its tenant holds its limit of leases."""
    run = flow.run
    nothing = Prediction(outcomes=(flow,), none=True)
    if tenant_full or flow.status != S.RUNNING:
        return nothing
    if run is None:
        if not _next_phase_due(flow):
            return nothing
        return Prediction(outcomes=(_claim(flow, Operation.EXECUTE_PHASE, run_id, owner),))
    if run.run_id is not None or not run.due:
        return nothing
    return Prediction(outcomes=(flow._claimed(run.phase, run_id, owner, attempt=run.attempt + 1),))


def predict_take_over(flow: ModelFlow, expired_run: UUID) -> Prediction:
    """``claim_due`` for the expired lease of ``expired_run``: the attempt failed (its worker stopped), and the next
    is due at once, unless it was the last (the flow fails); nothing when the attempt ended meanwhile."""
    if flow.in_progress is None or flow.in_progress != expired_run:
        return Prediction(outcomes=(flow,), none=True)
    return Prediction(outcomes=(flow._lost_worker(),), none=True)


def matching(prediction: Prediction, observed: tuple) -> ModelFlow | None:
    """The predicted outcome whose key equals ``observed``, if any."""
    return next((o for o in prediction.outcomes if o.key() == observed), None)
