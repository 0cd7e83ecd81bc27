"""The machine's rules for phase execution, one part at a time, as runners drive it: claims held by owners,
completions with a chosen ending (now, or late: after the lease expired and a runner took the attempt over),
completions that fail mid-transaction, a client's pause, cancel, resume or delete while a phase runs, leases
lost, a runner's claim of a flow's due work, a runner's poll of every due work item."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID, uuid4

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, multiple, precondition, rule

from domain.background import ClaimedRun, DueWork
from domain.events import Tenant
from domain.lifecycle import FlowStatus, Operation
from entrypoints.testing.consistency.environment import Environment
from entrypoints.testing.consistency.invariants import Inconsistency, Tracked, due_now, expect
from entrypoints.testing.consistency.model import (
    End,
    ModelFlow,
    Prediction,
    predict_claim,
    predict_claim_due,
    predict_completion,
    predict_take_over,
)
from entrypoints.testing.consistency.outcomes import observe
from entrypoints.testing.consistency.phase_parts import NO_TENANT_LIMIT, PhaseParts

ENTRY_NAMES = ["unified", "legacy:discovery", "legacy:unified-discovery", "python"]
OWNERS = ["runner-a", "runner-b"]
QUIET_STEPS = 2  # a fault or bad request at most every other step, so that flows also get deep into their lifecycle
FLOWS = Bundle("flows")
CLAIMS = Bundle("claims")


def claimable(model: ModelFlow) -> bool:
    """Whether a claim of the flow can succeed (the claim rule also tries the others, which must refuse)."""
    return model.status == FlowStatus.FAILED or (model.status == FlowStatus.RUNNING and model.run is None)


def lease_expired(model: ModelFlow) -> bool:
    return model.run is not None and model.run.lease_expired


@dataclass(frozen=True)
class Held:
    """A claimed attempt an owner holds, to complete (or lose) later."""

    flow_id: UUID
    claimed: ClaimedRun

    @property
    def run_id(self) -> UUID:
        return self.claimed.run_id

    def __repr__(self) -> str:  # what a shrunk example prints
        assert self.claimed.flow.run is not None
        return f"Held({self.claimed.owner}: {self.claimed.phase} attempt {self.claimed.flow.run.attempt})"


class PhaseExecutionRules(RuleBasedStateMachine):
    """The rules of phase execution; :class:`~entrypoints.testing.consistency.machine.FlowConsistencyMachine` has
    the rest."""

    env: Environment
    parts: PhaseParts
    tracked: dict[UUID, Tracked]
    quiet_steps: int
    last_step: str
    step_number: int
    """What the last step did, through which entry point, to which type's flow: an inconsistency names it."""

    def _apply(self, flow_id: UUID, tenant: Tenant, operation: Operation, entry_name: str, **options: Any) -> None:
        raise NotImplementedError

    @precondition(lambda self: any(claimable(t.model) for t in self.tracked.values()))
    @rule(target=CLAIMS, data=st.data(), owner=st.sampled_from(OWNERS))
    def claim(self, data: st.DataObject, owner: str) -> Any:
        """``claim_phase`` leased to ``owner`` (of a flow that can run a phase; ``execute`` through the entry points
        tries the others): the phase runs until a later step completes it."""
        flow_id = data.draw(st.sampled_from([f for f, t in self.tracked.items() if claimable(t.model)]), label="flow")
        tracked = self.tracked[flow_id]
        failed = tracked.model.status == FlowStatus.FAILED
        operation = Operation.RETRY if failed else Operation.EXECUTE_PHASE
        outcome, claimed = self.env.run(self.parts.claim(tracked.tenant, flow_id, operation, owner))
        run_id = claimed.run_id if claimed else uuid4()
        prediction = predict_claim(tracked.model, operation, run_id, owner)
        self._observe(flow_id, f"claim ({operation}) by {owner}", prediction, outcome)
        return multiple() if claimed is None else Held(flow_id, claimed)

    @rule(target=CLAIMS, held=consumes(CLAIMS), end=st.sampled_from(End), late=st.sampled_from([False, False, True]))
    def complete(self, held: Held, end: End, late: bool) -> Any:
        """``complete_run`` of a held attempt: the handler's outcome or a chosen ending (a failed outcome, an error
        retried now or later or not at all); discarded when the flow no longer runs it. ``late``: its lease
        expired first and a runner took the attempt over."""
        if late:
            self.lose_lease(held, take_over=True, owner=OWNERS[0])
        tracked = self.tracked[held.flow_id]
        end = self._as_the_policy_says(held, end)
        prediction = predict_completion(tracked.model, held.run_id, end)
        outcome = self.env.run(self.parts.complete(held.claimed, end))
        self._observe(held.flow_id, f"completion ({end}) of {held}", prediction, outcome)
        return multiple()

    @precondition(lambda self: self.quiet_steps >= QUIET_STEPS)
    @rule(target=CLAIMS, held=consumes(CLAIMS), fault=st.sampled_from(["crash", "kill"]))
    def fault_in_completion(self, held: Held, fault: str) -> Any:
        """A completion that fails mid-transaction leaves the attempt running, its lease held: it can be completed
        again (a runner retries it)."""
        self.quiet_steps = 0
        tracked = self.tracked[held.flow_id]
        prediction = predict_completion(tracked.model, held.run_id, End.HANDLER)
        if not prediction.none:  # a discarded completion writes no child row: the fault never fires
            prediction = Prediction(error="InternalError" if fault == "crash" else "StorageUnavailable")
        with self._armed(fault):
            outcome = self.env.run(self.parts.complete(held.claimed, End.HANDLER))
        self._observe(held.flow_id, f"completion ({fault}) of {held}", prediction, outcome)
        return multiple() if prediction.none else held

    @rule(
        held=CLAIMS,
        operation=st.sampled_from([Operation.PAUSE, Operation.CANCEL, Operation.RESUME, Operation.DELETE]),
        entry=st.sampled_from(ENTRY_NAMES),
    )
    def interrupt(self, held: Held, operation: Operation, entry: str) -> None:
        """A client pauses, cancels, resumes or deletes a flow while an owner holds its phase's attempt: a pause lets
        the attempt go on (its completion keeps the flow paused), a cancel or delete revokes it (its completion is
        discarded)."""
        self._apply(held.flow_id, self.tracked[held.flow_id].tenant, operation, entry)

    @rule(held=CLAIMS, take_over=st.booleans(), owner=st.sampled_from(OWNERS))
    def lose_lease(self, held: Held, take_over: bool, owner: str) -> None:
        """The holder stops renewing the lease: it expires; with ``take_over`` a runner then claims the expired
        attempt (``claim_due`` with ``expired_run``), which fails it and makes its next attempt due."""
        tracked = self.tracked[held.flow_id]
        model = tracked.model
        current = model.in_progress == held.run_id
        expired = self.env.run(self.parts.expire_lease(held.run_id))
        expect(expired == current, f"expiring the lease of {held}: found {expired}, model: {current}")
        if current:
            assert model.run is not None
            tracked.model = replace(model, run=replace(model.run, lease_expired=True))
        if take_over:
            self._take_over(DueWork(tracked.tenant, held.flow_id, expired_run=held.run_id), owner)

    @precondition(lambda self: any(t.model.run or t.model.auto_run for t in self.tracked.values()))
    @rule(target=CLAIMS, flow_id=FLOWS, owner=st.sampled_from(OWNERS), limit=st.sampled_from([NO_TENANT_LIMIT, 1, 2]))
    def claim_due(self, flow_id: UUID, owner: str, limit: int) -> Any:
        """A runner's ``claim_due`` of the flow, due or not, its tenant at its limit of leases or not."""
        claimed = self._claim_due(DueWork(self.tracked[flow_id].tenant, flow_id), owner, limit)
        return multiple() if claimed is None else claimed

    @precondition(lambda self: any(due_now(t.model) or lease_expired(t.model) for t in self.tracked.values()))
    @rule(target=CLAIMS, owner=st.sampled_from(OWNERS))
    def poll(self, owner: str) -> Any:
        """A runner's poll: every due work item (the invariants check that they are the model's), each claimed."""
        held = []
        for work in self.env.run(self.parts.due()):
            if work.expired_run is not None:
                self._take_over(work, owner)
            else:
                claimed = self._claim_due(work, owner, NO_TENANT_LIMIT)
                held += [] if claimed is None else [claimed]
        return multiple(*held)

    def _claim_due(self, work: DueWork, owner: str, limit: int) -> Held | None:
        tracked = self.tracked[work.flow_id]
        full = self._leases(work.tenant) >= limit
        outcome, claimed = self.env.run(self.parts.claim_due(work, owner, limit))
        run_id = claimed.run_id if claimed else uuid4()
        prediction = predict_claim_due(tracked.model, run_id, owner, full)
        self._observe(work.flow_id, f"claim_due by {owner} (tenant limit {limit})", prediction, outcome)
        return None if claimed is None else Held(work.flow_id, claimed)

    def _take_over(self, work: DueWork, owner: str) -> None:
        assert work.expired_run is not None
        tracked = self.tracked[work.flow_id]
        prediction = predict_take_over(tracked.model, work.expired_run)
        outcome, _ = self.env.run(self.parts.claim_due(work, owner))
        self._observe(work.flow_id, f"take-over of {work.expired_run} by {owner}", prediction, outcome)

    def _as_the_policy_says(self, held: Held, end: End) -> End:
        """A failed attempt is retried only while the phase has attempts left (as ``run_claimed`` decides)."""
        run = held.claimed.flow.run
        assert run is not None
        policy = self.env.definitions[held.claimed.flow.flow_type].policy_for(run.phase)
        if end in (End.RETRY_DUE, End.RETRY_LATER) and run.attempt >= policy.max_attempts:
            return End.GAVE_UP
        return end

    def _leases(self, tenant: Tenant) -> int:
        return sum(1 for t in self.tracked.values() if t.tenant == tenant and t.model.in_progress)

    def _observe(self, flow_id: UUID, what: str, prediction: Prediction, outcome: Any, legacy: bool = False) -> None:
        tracked = self.tracked[flow_id]
        entry = "" if " via " in what else " via background execution"  # the parts a runner drives
        self.last_step = f"{what}{entry}, on a {tracked.model.flow_type} flow"
        with self._at_this_step():
            observe(tracked, what, prediction, outcome, legacy)

    @contextmanager
    def _at_this_step(self) -> Iterator[None]:
        """An outcome that is not the model's names the step, what it did and through which entry point."""
        try:
            yield
        except Inconsistency as found:
            raise Inconsistency(f"at step {self.step_number + 1} ({self.last_step}): {found}") from None

    @contextmanager
    def _armed(self, fault: str) -> Iterator[None]:
        switches = self.env.switches
        if fault == "crash":
            switches.crash_next = True
        else:
            switches.kill_next = True
        try:
            yield
        finally:
            switches.crash_next = switches.kill_next = False
