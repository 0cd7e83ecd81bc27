"""The reference model: what each operation must do, built on the domain's transition table alone.

A ``ModelFlow`` is the part of a flow every view must agree on. ``predict`` says, for an
operation on it, either the exact error (class and HTTP status) or the possible next states.
Only a phase's data can fail it, and only the phase structure decides where a successful phase
leads (an input phase waits; the last phase completes), so a success has one possible result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from domain.lifecycle import FlowStatus, Operation, PhaseState, allowed_targets

S = FlowStatus

ERROR_STATUS = {
    "IllegalTransition": 409,
    "VersionConflict": 409,
    "FlowNotFound": 404,
    "StorageUnavailable": 503,
    "InternalError": 500,
    "ValidationError": 422,
}


@dataclass(frozen=True)
class ModelFlow:
    flow_type: str
    phases: tuple[str, ...]
    input_phases: tuple[str, ...]
    status: FlowStatus = S.INITIALIZED
    version: int = 1
    states: tuple[PhaseState, ...] = ()
    current_phase: str | None = None

    @classmethod
    def created(cls, flow_type: str, phases: tuple[str, ...], input_phases: tuple[str, ...]) -> ModelFlow:
        return cls(flow_type, phases, input_phases, states=(PhaseState.PENDING,) * len(phases))

    def key(self) -> tuple:
        return (self.status, self.version, self.current_phase, self.states)

    def _state(self, phase: str) -> PhaseState:
        return self.states[self.phases.index(phase)]

    def _with(self, status: FlowStatus, **changes: object) -> ModelFlow:
        return replace(self, status=status, version=self.version + 1, **changes)  # type: ignore[arg-type]

    def _phase_ended(self, phase: str, result: PhaseState, status_if_done: FlowStatus | None = None) -> ModelFlow:
        states = list(self.states)
        states[self.phases.index(phase)] = result
        if result == PhaseState.COMPLETED:
            nxt = next((p for p, s in zip(self.phases, states, strict=True) if s == PhaseState.PENDING), None)
            return self._with(S.RUNNING if nxt else S.COMPLETED, states=tuple(states), current_phase=nxt)
        status = S.WAITING_FOR_INPUT if result == PhaseState.RUNNING else S.FAILED
        return self._with(status_if_done or status, states=tuple(states), current_phase=phase)


@dataclass(frozen=True)
class Prediction:
    error: str | None = None
    outcomes: tuple[ModelFlow, ...] = field(default_factory=tuple)

    @property
    def http_status(self) -> int | None:
        return ERROR_STATUS[self.error] if self.error else None


def predict(flow: ModelFlow, operation: Operation, expected_version: int | None = None) -> Prediction:
    """What ``operation`` must do to ``flow``: an error, or one of the possible next states."""
    if expected_version is not None and expected_version != flow.version:
        return Prediction(error="VersionConflict")
    targets = allowed_targets(flow.status, operation)
    if not targets:
        return Prediction(error="IllegalTransition")
    if operation == Operation.START:
        nxt = next(p for p, s in zip(flow.phases, flow.states, strict=True) if s == PhaseState.PENDING)
        return Prediction(outcomes=(flow._with(S.RUNNING, current_phase=nxt),))
    if operation in (Operation.PAUSE, Operation.CANCEL, Operation.DELETE):
        return Prediction(outcomes=(flow._with(next(iter(targets))),))
    if operation == Operation.RESUME:
        waiting = flow.current_phase is not None and flow._state(flow.current_phase) == PhaseState.RUNNING
        return Prediction(outcomes=(flow._with(S.WAITING_FOR_INPUT if waiting else S.RUNNING),))
    if operation == Operation.SUBMIT_INPUT:
        phase = flow.current_phase
        assert phase is not None
        return Prediction(
            outcomes=(
                flow._phase_ended(phase, PhaseState.COMPLETED),
                flow._phase_ended(phase, PhaseState.RUNNING),
                flow._phase_ended(phase, PhaseState.FAILED),
            )
        )
    if operation == Operation.EXECUTE_PHASE:
        phase = next(p for p, s in zip(flow.phases, flow.states, strict=True) if s == PhaseState.PENDING)
    else:  # RETRY
        phase = next(p for p, s in zip(flow.phases, flow.states, strict=True) if s == PhaseState.FAILED)
    success = PhaseState.RUNNING if phase in flow.input_phases else PhaseState.COMPLETED
    return Prediction(outcomes=(flow._phase_ended(phase, success), flow._phase_ended(phase, PhaseState.FAILED)))


def matching(prediction: Prediction, observed: tuple) -> ModelFlow | None:
    """The predicted outcome whose key equals ``observed``, if any."""
    return next((o for o in prediction.outcomes if o.key() == observed), None)
