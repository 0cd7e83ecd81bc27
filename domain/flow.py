"""The Flow aggregate.

Every state change goes the same way: check the transition table (and the expected
version), build a :class:`FlowEvent`, then apply it. Applying is the only code that
changes state, so replaying a flow's events rebuilds it exactly, and ``version`` always
equals the number of events.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import IllegalTransition, UnknownPhase, VersionConflict
from domain.events import FlowEvent, Tenant
from domain.lifecycle import FlowStatus, Operation, PhaseState, allowed_targets
from domain.phases import PhaseOutcome, PhaseResultKind


@dataclass
class Phase:
    name: str
    state: PhaseState = PhaseState.PENDING


def progress_percent_of(phases: Sequence[Phase]) -> int:
    """Completed and skipped phases as a whole percent of all phases (100 for a flow without phases)."""
    done = sum(1 for p in phases if p.state in (PhaseState.COMPLETED, PhaseState.SKIPPED))
    return round(100 * done / len(phases)) if phases else 100


@dataclass
class FlowSummary:
    """What a list of flows shows of each: the flow without its configuration and phase results, so a page of them
    is read without those (possibly large) documents. Nothing changes a summary: changes load the whole
    :class:`Flow`.

    Its fields are the flow's, declared once: :class:`Flow` adds the two documents to them.
    """

    flow_id: UUID
    tenant: Tenant
    flow_type: str
    name: str
    status: FlowStatus
    current_phase: str | None
    phases: list[Phase]
    error: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    auto_run: bool = False
    """Started with ``auto_run``: while running, its phases run in the background (domain.background)."""

    @property
    def progress_percent(self) -> int:
        return progress_percent_of(self.phases)


@dataclass
class Flow(FlowSummary):
    configuration: dict[str, Any] = field(default_factory=dict)
    phase_results: dict[str, Any] = field(default_factory=dict)
    loaded_version: int = field(default=0, repr=False, compare=False)
    """The version the flow had when it was read (0: created in this unit of work); saving checks it is still the
    stored one."""
    pending_events: list[FlowEvent] = field(default_factory=list, repr=False, compare=False)
    """The events of this unit of work's changes, oldest first: what the event log appends."""

    # -- creation and replay -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        flow_id: UUID,
        tenant: Tenant,
        flow_type: str,
        name: str,
        phases: list[str],
        configuration: dict[str, Any],
        actor: str,
        at: datetime,
    ) -> Flow:
        event = FlowEvent(
            flow_id=flow_id,
            tenant=tenant,
            version=1,
            operation=Operation.CREATE,
            actor=actor,
            from_status=None,
            to_status=FlowStatus.INITIALIZED,
            occurred_at=at,
            data={
                "flow_type": flow_type,
                "name": name,
                "phases": list(phases),
                "configuration": copy.deepcopy(configuration),
            },
        )
        flow = cls._from_creation(event)
        flow.pending_events.append(event)
        return flow

    @classmethod
    def _from_creation(cls, event: FlowEvent) -> Flow:
        data = event.data
        return cls(
            flow_id=event.flow_id,
            tenant=event.tenant,
            flow_type=data["flow_type"],
            name=data["name"],
            status=FlowStatus(event.to_status),
            current_phase=None,
            phases=[Phase(name) for name in data["phases"]],
            configuration=copy.deepcopy(data["configuration"]),
            phase_results={},
            error=None,
            created_at=event.occurred_at,
            updated_at=event.occurred_at,
            version=event.version,
        )

    @classmethod
    def replay(cls, events: list[FlowEvent]) -> Flow:
        """Rebuild a flow from its events, oldest first."""
        if not events or events[0].operation != Operation.CREATE:
            raise ValueError("a flow's event log must start with its creation")
        flow = cls._from_creation(events[0])
        for event in events[1:]:
            flow._apply(event)
        return flow

    # -- queries ---------------------------------------------------------------------------

    @property
    def phase_names(self) -> list[str]:
        return [phase.name for phase in self.phases]

    def phase_state(self, name: str) -> PhaseState:
        return self._phase(name).state

    def next_pending_phase(self) -> str | None:
        return next((p.name for p in self.phases if p.state == PhaseState.PENDING), None)

    def summary(self) -> FlowSummary:
        shared = {f.name: getattr(self, f.name) for f in fields(FlowSummary)}
        return FlowSummary(**{**shared, "phases": [Phase(p.name, p.state) for p in self.phases]})

    # -- simple transitions ----------------------------------------------------------------

    def start(
        self, *, actor: str, at: datetime, expected_version: int | None = None, auto_run: bool = False
    ) -> FlowEvent:
        self._check(Operation.START, expected_version)
        extra = {"auto_run": True} if auto_run else {}
        return self._record(
            Operation.START, FlowStatus.RUNNING, actor, at, current_phase=self.next_pending_phase(), **extra
        )

    def pause(self, *, actor: str, at: datetime, expected_version: int | None = None) -> FlowEvent:
        self._check(Operation.PAUSE, expected_version)
        return self._record(Operation.PAUSE, FlowStatus.PAUSED, actor, at)

    def resume(self, *, actor: str, at: datetime, expected_version: int | None = None) -> FlowEvent:
        """Back to running, or back to waiting for input when it was paused while waiting."""
        self._check(Operation.RESUME, expected_version)
        waiting = self.current_phase is not None and self.phase_state(self.current_phase) == PhaseState.RUNNING
        return self._record(
            Operation.RESUME, FlowStatus.WAITING_FOR_INPUT if waiting else FlowStatus.RUNNING, actor, at
        )

    def cancel(self, *, actor: str, at: datetime, expected_version: int | None = None) -> FlowEvent:
        self._check(Operation.CANCEL, expected_version)
        return self._record(Operation.CANCEL, FlowStatus.CANCELLED, actor, at)

    def delete(self, *, actor: str, at: datetime, expected_version: int | None = None) -> FlowEvent:
        self._check(Operation.DELETE, expected_version)
        return self._record(Operation.DELETE, FlowStatus.DELETED, actor, at)

    # -- phase transitions: check first, let the adapter run the phase, then record ---------

    def phase_to_execute(self, requested: str | None = None, expected_version: int | None = None) -> str:
        """The phase ``execute_phase`` will run: the next pending one, or ``requested``.

        A requested phase must still be pending; the pending phases before it are skipped.
        """
        self._check(Operation.EXECUTE_PHASE, expected_version)
        if requested is None:
            phase = self.next_pending_phase()
            if phase is None:  # pragma: no cover - a running flow always has a pending phase
                raise IllegalTransition(self.flow_id, self.status, Operation.EXECUTE_PHASE, "no phase is pending")
            return phase
        state = self._phase(requested).state
        if state != PhaseState.PENDING:
            raise IllegalTransition(
                self.flow_id, self.status, Operation.EXECUTE_PHASE, f"phase '{requested}' is already {state}"
            )
        return requested

    def phase_awaiting_input(self, expected_version: int | None = None) -> str:
        self._check(Operation.SUBMIT_INPUT, expected_version)
        assert self.current_phase is not None
        return self.current_phase

    def phase_to_retry(self, expected_version: int | None = None) -> str:
        self._check(Operation.RETRY, expected_version)
        failed = next((p.name for p in self.phases if p.state == PhaseState.FAILED), None)
        if failed is None:  # pragma: no cover - a failed flow always has a failed phase
            raise IllegalTransition(self.flow_id, self.status, Operation.RETRY, "no phase has failed")
        return failed

    def record_phase_outcome(
        self,
        operation: Operation,
        phase: str,
        outcome: PhaseOutcome,
        *,
        actor: str,
        at: datetime,
        extra: dict[str, Any] | None = None,
    ) -> FlowEvent:
        """Record what running (or giving input to) ``phase`` produced, as one event."""
        states = {p.name: p.state for p in self.phases}
        if operation == Operation.EXECUTE_PHASE:
            for name in self.phase_names[: self.phase_names.index(phase)]:
                if states[name] == PhaseState.PENDING:
                    states[name] = PhaseState.SKIPPED
        error: str | None = None
        current: str | None = phase
        if outcome.kind == PhaseResultKind.COMPLETED:
            states[phase] = PhaseState.COMPLETED
            current = next((n for n in self.phase_names if states[n] == PhaseState.PENDING), None)
            to_status = FlowStatus.RUNNING if current else FlowStatus.COMPLETED
        elif outcome.kind == PhaseResultKind.NEEDS_INPUT:
            states[phase] = PhaseState.RUNNING
            to_status = FlowStatus.WAITING_FOR_INPUT
        else:
            states[phase] = PhaseState.FAILED
            to_status = FlowStatus.FAILED
            error = outcome.error or f"phase '{phase}' failed"
        if to_status not in allowed_targets(self.status, operation):  # pragma: no cover - table guards
            raise IllegalTransition(self.flow_id, self.status, operation, f"cannot end in '{to_status}'")
        trace = {"trace": outcome.trace} if outcome.trace else {}
        return self._record(
            operation,
            to_status,
            actor,
            at,
            current_phase=current,
            phase_states=states,
            phase_results={phase: outcome.result},
            error=error,
            **(extra or {}),
            **trace,
        )

    # -- internals -------------------------------------------------------------------------

    def _phase(self, name: str) -> Phase:
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise UnknownPhase(self.flow_id, name, self.phase_names)

    def _check(self, operation: Operation, expected_version: int | None) -> None:
        if expected_version is not None and expected_version != self.version:
            raise VersionConflict(self.flow_id, expected_version, self.version)
        if not allowed_targets(self.status, operation):
            raise IllegalTransition(self.flow_id, self.status, operation)

    def _record(
        self,
        operation: Operation,
        to_status: FlowStatus,
        actor: str,
        at: datetime,
        *,
        current_phase: str | None = ...,  # type: ignore[assignment]
        phase_states: dict[str, PhaseState] | None = None,
        phase_results: dict[str, Any] | None = None,
        error: str | None = ...,  # type: ignore[assignment]
        **extra: Any,
    ) -> FlowEvent:
        data: dict[str, Any] = {
            "current_phase": self.current_phase if current_phase is ... else current_phase,
            "phase_states": {n: str(s) for n, s in (phase_states or {p.name: p.state for p in self.phases}).items()},
            "error": self.error if error is ... else error,
        }
        if phase_results:
            data["phase_results"] = copy.deepcopy(phase_results)
        data.update(copy.deepcopy(extra))
        event = FlowEvent(
            flow_id=self.flow_id,
            tenant=self.tenant,
            version=self.version + 1,
            operation=operation,
            actor=actor,
            from_status=self.status,
            to_status=to_status,
            occurred_at=at,
            data=data,
        )
        self._apply(event)
        self.pending_events.append(event)
        return event

    def _apply(self, event: FlowEvent) -> None:
        data = event.data
        self.status = FlowStatus(event.to_status)
        self.version = event.version
        self.updated_at = event.occurred_at
        self.current_phase = data["current_phase"]
        self.error = data["error"]
        self.auto_run = data.get("auto_run", self.auto_run)
        for phase in self.phases:
            phase.state = PhaseState(data["phase_states"][phase.name])
        self.phase_results.update(copy.deepcopy(data.get("phase_results", {})))
