"""The Flow aggregate.

Every state change goes the same way: check the transition table (and the expected
version), build a :class:`FlowEvent`, then apply it. Applying is the only code that
changes state, so replaying a flow's events rebuilds it exactly, and ``version`` always
equals the number of events.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.contract import ExecutionContract, MigrationPlan, PhaseMapping, plan_migration
from domain.errors import IllegalTransition, MigrationRefused, StaleRun, UnknownPhase, VersionConflict
from domain.events import FlowEvent, Tenant
from domain.lifecycle import FlowStatus, Operation, PhaseState, allowed_operations, allowed_targets
from domain.phases import PhaseOutcome, PhaseResultKind


@dataclass
class Phase:
    name: str
    state: PhaseState = PhaseState.PENDING


def progress_percent_of(phases: Sequence[Phase]) -> int:
    """Completed and skipped phases as a whole percent of all phases (100 for a flow without phases)."""
    done = sum(1 for p in phases if p.state in (PhaseState.COMPLETED, PhaseState.SKIPPED))
    return round(100 * done / len(phases)) if phases else 100


@dataclass(frozen=True)
class PhaseRun:
    """The phase a flow is running: which attempt, since when, and the run that holds it.

    ``run_id`` names the attempt in progress (the one its lease is for, application/phase_execution.py); it is None
    between a failed attempt and the next, which may begin at ``retry_at``. ``errors`` says how each earlier attempt
    ended. ``trace`` is the trace context of the claim that began the run (W3C ``traceparent`` and ``tracestate``, as
    text): every attempt, on whichever runner, and the next phase an auto-run flow goes straight on to, continue that
    trace.
    """

    phase: str
    attempt: int
    run_id: UUID | None
    started_at: datetime | None
    retry_at: datetime | None = None
    errors: tuple[str, ...] = ()
    trace: tuple[tuple[str, str], ...] = ()

    @property
    def trace_context(self) -> dict[str, str]:
        return dict(self.trace)

    @property
    def in_progress(self) -> bool:
        return self.run_id is not None

    def to_data(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "attempt": self.attempt,
            "run_id": None if self.run_id is None else str(self.run_id),
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "retry_at": None if self.retry_at is None else self.retry_at.isoformat(),
            "errors": list(self.errors),
            **({"trace": dict(self.trace)} if self.trace else {}),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> PhaseRun | None:
        if not data:
            return None
        return cls(
            phase=data["phase"],
            attempt=int(data["attempt"]),
            run_id=None if data.get("run_id") is None else UUID(data["run_id"]),
            started_at=None if data.get("started_at") is None else datetime.fromisoformat(data["started_at"]),
            retry_at=None if data.get("retry_at") is None else datetime.fromisoformat(data["retry_at"]),
            errors=tuple(data.get("errors") or ()),
            trace=trace_of(data.get("trace")),
        )


def trace_of(context: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    """A trace context (a carrier of text fields) as :attr:`PhaseRun.trace` keeps it."""
    return tuple(sorted((str(k), str(v)) for k, v in (context or {}).items()))


@dataclass(frozen=True)
class AttemptEnd:
    """How an attempt of the running phase ended: with the handler's ``outcome``, or with an ``error`` (raised, timed
    out, its worker gone) after which the next attempt begins at ``retry_at`` (None: no attempt is left)."""

    outcome: PhaseOutcome | None = None
    error: str | None = None
    retry_at: datetime | None = None

    @classmethod
    def of(cls, outcome: PhaseOutcome) -> AttemptEnd:
        return cls(outcome=outcome)

    @classmethod
    def failed(cls, error: str, retry_at: datetime | None) -> AttemptEnd:
        return cls(error=error, retry_at=retry_at)


def failed_after_attempts(phase: str, errors: Sequence[str]) -> str:
    """The error of a flow whose phase used up its attempts (or met an error it never retries): how each ended."""
    if len(errors) == 1:
        return f"{errors[0]}; POST .../retry runs it again"
    listed = "; ".join(f"attempt {n}: {error}" for n, error in enumerate(errors, start=1))
    return f"phase '{phase}' failed after {len(errors)} attempts ({listed}); POST .../retry runs it again"


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
    run: PhaseRun | None = None
    """The phase being run (or between two of its attempts); None when no phase is running."""
    contract: ExecutionContract = field(default_factory=ExecutionContract)
    """What the flow runs under, recorded at its creation (domain/contract.py): its type's version, and whether
    the CrewAI bridge runs its phases. Only a migration changes it."""

    @property
    def progress_percent(self) -> int:
        return progress_percent_of(self.phases)

    def allowed_operations(self) -> list[Operation]:
        """What a client may ask of the flow now: its status's operations, less ``execute_phase`` while it runs a
        phase."""
        running = self.run is not None
        return [op for op in allowed_operations(self.status) if not (running and op == Operation.EXECUTE_PHASE)]


@dataclass
class Flow(FlowSummary):
    configuration: dict[str, Any] = field(default_factory=dict)
    phase_results: dict[str, Any] = field(default_factory=dict)
    trace_context: dict[str, str] = field(default_factory=dict)
    """The trace context of the change that left the flow due for a runner's claim of its next phase (an auto-run
    start, a resume, a phase or input completed with no next phase claimed): that claim continues it. Each change
    replaces it, so it is empty once any other change came."""
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
        contract: ExecutionContract | None = None,
    ) -> Flow:
        """A new flow (event 1). ``contract``: what it runs under (by default: version 1 of its phases, without the
        bridge)."""
        recorded = contract or ExecutionContract(phases=tuple(phases))
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
                "contract": recorded.to_data(),
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
            contract=ExecutionContract.from_data(data.get("contract"))
            if "contract" in data
            else ExecutionContract(phases=tuple(data["phases"])),
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
        self,
        *,
        actor: str,
        at: datetime,
        expected_version: int | None = None,
        auto_run: bool = False,
        trace: Mapping[str, str] | None = None,
    ) -> FlowEvent:
        """Start running; with ``auto_run`` a runner claims its phases, the first in the trace ``trace`` names."""
        self._check(Operation.START, expected_version)
        extra = {"auto_run": True} if auto_run else {}
        return self._record(
            Operation.START,
            FlowStatus.RUNNING,
            actor,
            at,
            current_phase=self.next_pending_phase(),
            trace_context=trace,
            **extra,
        )

    def pause(self, *, actor: str, at: datetime, expected_version: int | None = None) -> FlowEvent:
        self._check(Operation.PAUSE, expected_version)
        return self._record(Operation.PAUSE, FlowStatus.PAUSED, actor, at)

    def resume(
        self, *, actor: str, at: datetime, expected_version: int | None = None, trace: Mapping[str, str] | None = None
    ) -> FlowEvent:
        """Back to running, or back to waiting for input when it was paused while waiting; an auto-run flow's next
        phase is then claimed by a runner, in the trace ``trace`` names."""
        self._check(Operation.RESUME, expected_version)
        return self._record(
            Operation.RESUME,
            FlowStatus.WAITING_FOR_INPUT if self.waiting_for() is not None else FlowStatus.RUNNING,
            actor,
            at,
            trace_context=trace,
        )

    def cancel(self, *, actor: str, at: datetime, expected_version: int | None = None) -> FlowEvent:
        self._check(Operation.CANCEL, expected_version)
        return self._record(Operation.CANCEL, FlowStatus.CANCELLED, actor, at, run=None)

    def delete(self, *, actor: str, at: datetime, expected_version: int | None = None) -> FlowEvent:
        self._check(Operation.DELETE, expected_version)
        return self._record(Operation.DELETE, FlowStatus.DELETED, actor, at, run=None)

    def waiting_for(self) -> str | None:
        """The phase the flow waits on for a client's input (also while paused or after it was cancelled there):
        its current phase when that phase is running but no attempt of it is."""
        if (
            self.run is None
            and self.current_phase is not None
            and self.phase_state(self.current_phase) == PhaseState.RUNNING
        ):
            return self.current_phase
        return None

    # -- migration -------------------------------------------------------------------------

    def migration_plan(
        self, target: ExecutionContract, mapping: PhaseMapping | None, expected_version: int | None = None
    ) -> MigrationPlan:
        """What moving the flow to ``target`` (another version of its type) under ``mapping`` changes, or
        ``MigrationRefused`` saying why it cannot (``IllegalTransition`` in a status that allows no migration)."""
        self._check(Operation.MIGRATE, expected_version)
        if self.run is not None:
            self._refuse(target, f"{self.run_description()}: migrate it once the attempt has ended")
        states = {p.name: str(p.state) for p in self.phases}
        plan = plan_migration(self.contract, states, target, mapping, waiting_for=self.waiting_for())
        if isinstance(plan, str):
            self._refuse(target, plan)
        assert isinstance(plan, MigrationPlan)
        left = [name for name in plan.phases if states.get(name, "pending") == "pending"]
        if self.status == FlowStatus.RUNNING and not left:
            self._refuse(target, "a running flow would have no phase left to run")
        return plan

    def migrate(
        self,
        target: ExecutionContract,
        mapping: PhaseMapping | None,
        *,
        actor: str,
        at: datetime,
        expected_version: int | None = None,
    ) -> FlowEvent:
        """Move the flow to ``target`` as one event: kept phases keep their state and result, added ones are
        pending, dropped ones (never run) are gone. The bridge setting the flow was created with stays."""
        plan = self.migration_plan(target, mapping, expected_version)
        contract = ExecutionContract(
            target.version, target.phases, target.input_phases, target.policies, self.contract.bridged
        )
        states = {p.name: p.state for p in self.phases}
        new_states = {name: states.get(name, PhaseState.PENDING) for name in plan.phases}
        current = self.current_phase
        held = current is not None and new_states.get(current) in (PhaseState.RUNNING, PhaseState.FAILED)
        if not held:  # waiting on a phase or failed in one: it stays current; otherwise the next pending one
            pending = next((n for n in plan.phases if new_states[n] == PhaseState.PENDING), None)
            current = None if self.status == FlowStatus.INITIALIZED else pending
        return self._record(
            Operation.MIGRATE,
            self.status,
            actor,
            at,
            current_phase=current,
            phase_states=new_states,
            phases=list(plan.phases),
            contract=contract.to_data(),
            migration=plan.to_data(),
        )

    def _refuse(self, target: ExecutionContract, reason: str) -> None:
        raise MigrationRefused(self.flow_id, self.contract.version, target.version, reason)

    # -- phase transitions: check first, let the adapter run the phase, then record ---------

    def phase_to_execute(self, requested: str | None = None, expected_version: int | None = None) -> str:
        """The phase ``execute_phase`` will run: the next pending one, or ``requested``.

        A requested phase must still be pending; the pending phases before it are skipped.
        """
        self._check(Operation.EXECUTE_PHASE, expected_version)
        if self.run is not None:
            raise IllegalTransition(
                self.flow_id,
                self.status,
                Operation.EXECUTE_PHASE,
                self.run_description(),
                allowed=[str(op) for op in self.allowed_operations()],
            )
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

    def run_description(self) -> str:
        run = self.run
        assert run is not None
        if run.in_progress:
            return f"phase '{run.phase}' is running (attempt {run.attempt})"
        return f"phase '{run.phase}' is running (attempt {run.attempt + 1} is due at {run.retry_at})"

    def claim_phase(
        self,
        operation: Operation,
        *,
        run_id: UUID,
        actor: str,
        at: datetime,
        requested: str | None = None,
        expected_version: int | None = None,
        trace: Mapping[str, str] | None = None,
    ) -> FlowEvent:
        """Begin running a phase (``execute_phase``: the next pending one, or ``requested``; ``retry``: the failed
        one) as attempt 1 of ``run_id``, in the trace ``trace`` names. The flow is ``running`` until an attempt ends
        it (:meth:`end_attempt`)."""
        if operation == Operation.RETRY:
            phase = self.phase_to_retry(expected_version)
        else:
            phase = self.phase_to_execute(requested, expected_version)
        states = {p.name: p.state for p in self.phases}
        if operation == Operation.EXECUTE_PHASE:
            for name in self.phase_names[: self.phase_names.index(phase)]:
                if states[name] == PhaseState.PENDING:
                    states[name] = PhaseState.SKIPPED
        states[phase] = PhaseState.RUNNING
        return self._record(
            operation,
            FlowStatus.RUNNING,
            actor,
            at,
            current_phase=phase,
            phase_states=states,
            error=None,
            run=PhaseRun(phase, 1, run_id, at, trace=trace_of(trace)),
        )

    def reattempt_phase(self, *, run_id: UUID, actor: str, at: datetime) -> FlowEvent:
        """Begin the next attempt of the running phase, as ``run_id``, once its earlier attempt failed."""
        self._check(Operation.REATTEMPT_PHASE, None)
        run = self.run
        if run is None or run.in_progress:
            reason = "no phase waits for another attempt" if run is None else self.run_description()
            raise IllegalTransition(self.flow_id, self.status, Operation.REATTEMPT_PHASE, reason)
        attempt = replace(run, attempt=run.attempt + 1, run_id=run_id, started_at=at, retry_at=None)
        return self._record(Operation.REATTEMPT_PHASE, FlowStatus.RUNNING, actor, at, run=attempt)

    def end_attempt(
        self, run_id: UUID, end: AttemptEnd, *, actor: str, at: datetime, next_run_id: UUID | None = None
    ) -> FlowEvent:
        """Record how attempt ``run_id`` of the running phase ended (:class:`AttemptEnd`), as one event.

        ``next_run_id``: when the phase completed and the auto-run flow goes on running, its next phase begins in
        the same event, as attempt 1 of ``next_run_id`` (a runner going straight on to it): one commit, one event.

        ``StaleRun`` when the flow no longer runs ``run_id`` (cancelled, deleted, or another attempt began after
        its lease expired): then nothing may be recorded but that it was discarded."""
        run = self.run
        if run is None or run.run_id != run_id:
            if run is None:
                reason = f"the flow is {self.status}"
            elif run.in_progress:
                reason = f"it runs {run.run_id} now"
            else:
                reason = f"no attempt runs now (attempt {run.attempt + 1} is due at {run.retry_at})"
            raise StaleRun(self.flow_id, run_id, reason)
        self._check(Operation.COMPLETE_PHASE, None)
        extra = {"attempt": run.attempt}
        if end.outcome is not None:
            return self.record_phase_outcome(
                Operation.COMPLETE_PHASE,
                run.phase,
                end.outcome,
                actor=actor,
                at=at,
                extra=extra,
                claim_next=next_run_id,
                trace=run.trace_context,  # a runner's later claim of the next phase goes on in this run's trace
            )
        assert end.error is not None
        errors = (*run.errors, end.error)
        if end.retry_at is None:
            failure = PhaseOutcome.failed(failed_after_attempts(run.phase, errors))
            return self.record_phase_outcome(
                Operation.COMPLETE_PHASE, run.phase, failure, actor=actor, at=at, extra=extra
            )
        waiting = replace(run, run_id=None, started_at=None, retry_at=end.retry_at, errors=errors)
        return self._record(
            Operation.COMPLETE_PHASE, self.status, actor, at, run=waiting, attempt_error=end.error, **extra
        )

    def record_phase_outcome(
        self,
        operation: Operation,
        phase: str,
        outcome: PhaseOutcome,
        *,
        actor: str,
        at: datetime,
        extra: dict[str, Any] | None = None,
        claim_next: UUID | None = None,
        trace: Mapping[str, str] | None = None,
    ) -> FlowEvent:
        """Record what running (or giving input to) ``phase`` produced, as one event; with ``claim_next``, an
        auto-run flow left running begins its next phase in it too, as attempt 1 of that run. Without it, a
        runner claims that phase later, in the trace ``trace`` names."""
        states = {p.name: p.state for p in self.phases}
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
        if self.status == FlowStatus.PAUSED and to_status in (FlowStatus.RUNNING, FlowStatus.WAITING_FOR_INPUT):
            to_status = FlowStatus.PAUSED  # paused while the phase ran: the result is kept, no next phase starts
        if to_status not in allowed_targets(self.status, operation):  # pragma: no cover - table guards
            raise IllegalTransition(self.flow_id, self.status, operation, f"cannot end in '{to_status}'")
        outcome_trace = {"trace": outcome.trace} if outcome.trace else {}
        following: PhaseRun | None = None
        if claim_next is not None and to_status == FlowStatus.RUNNING and self.auto_run and current is not None:
            states[current] = PhaseState.RUNNING
            following = PhaseRun(current, 1, claim_next, at, trace=self.run.trace if self.run else ())
        return self._record(
            operation,
            to_status,
            actor,
            at,
            current_phase=current,
            phase_states=states,
            phase_results={phase: outcome.result},
            error=error,
            run=following,
            trace_context=trace,
            **(extra or {}),
            **outcome_trace,
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
        run: PhaseRun | None = ...,  # type: ignore[assignment]
        trace_context: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> FlowEvent:
        """``trace_context`` is kept (in the event, and as the flow's) only when the change leaves the flow due for a
        runner's claim of its next phase."""
        after_run = self.run if run is ... else run
        after_states = phase_states or {p.name: p.state for p in self.phases}
        data: dict[str, Any] = {
            "current_phase": self.current_phase if current_phase is ... else current_phase,
            "phase_states": {n: str(s) for n, s in after_states.items()},
            "error": self.error if error is ... else error,
            "run": None if after_run is None else after_run.to_data(),
        }
        awaits_runner = (
            to_status == FlowStatus.RUNNING
            and after_run is None
            and extra.get("auto_run", self.auto_run)
            and PhaseState.PENDING in after_states.values()
        )
        if trace_context and awaits_runner:
            data["trace_context"] = dict(trace_context)
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
        self.run = PhaseRun.from_data(data.get("run"))
        if "phases" in data:  # a migration: the phases of the new version, in its order
            self.phases = [Phase(name) for name in data["phases"]]
        if "contract" in data:
            self.contract = ExecutionContract.from_data(data["contract"])
        self.trace_context = dict(data.get("trace_context") or {})
        for phase in self.phases:
            phase.state = PhaseState(data["phase_states"][phase.name])
        self.phase_results.update(copy.deepcopy(data.get("phase_results", {})))
