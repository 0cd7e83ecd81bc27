"""Phase execution in three parts: claim, run, complete.

1. **Claim** (one transaction): lock the flow's row, check the transition, record that the phase started (the master
   row, the child record, the CrewAI state, one event) and lease the attempt to its runner; commit.
2. **Run** the handler with no transaction open and no pooled connection held, within the phase's timeout. What the
   handler reads (another flow, the bridge's stored state) is read in short transactions of their own.
3. **Complete** (one transaction): lock the row, check that the flow still runs this attempt (its ``run_id``: a
   cancelled flow, or an attempt whose lease expired and was taken over, no longer does), then record the outcome
   (master, child, CrewAI state, one event) and end the lease; commit. A completion the flow no longer expects
   records only that its attempt was discarded (the phase's attempts).

``PhaseExecution`` holds the three parts; ``application/phase_runner.py`` drives them for many attempts at once
(heartbeats, timeouts, polling for due work); ``execute_phase`` here runs all three in order, for callers that
want the outcome in the same call (the CLI, tests).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from application.orchestration import LockedFlow, OrchestratorPart, raised
from application.outside_reads import ReadsOutsideTransaction
from domain.background import AttemptResult, ClaimedRun, DueWork, due_at
from domain.errors import (
    ConcurrentModification,
    DomainError,
    FlowBusy,
    FlowNotFound,
    StaleRun,
    StorageUnavailable,
)
from domain.events import Tenant
from domain.flow import AttemptEnd, Flow
from domain.idempotency import IdempotentRequest
from domain.lifecycle import Operation
from domain.phase_policy import PhasePolicy
from domain.phases import PhaseOutcome, PhaseResultKind
from domain.ports import UnitOfWork

INLINE_OWNER = "inline"
"""The owner of an attempt run by ``execute_phase`` in the caller's own task (no runner, no heartbeat: its lease
lasts the phase's timeout and a margin)."""
INLINE_LEASE_MARGIN_SECONDS = 30.0


def attempt_result_of(end: AttemptEnd) -> AttemptResult:
    if end.outcome is None:
        return AttemptResult.RETRYING if end.retry_at is not None else AttemptResult.FAILED
    return {
        PhaseResultKind.COMPLETED: AttemptResult.COMPLETED,
        PhaseResultKind.NEEDS_INPUT: AttemptResult.NEEDS_INPUT,
        PhaseResultKind.FAILED: AttemptResult.FAILED,
    }[end.outcome.kind]


def trace_of_run(flow: Flow) -> dict[str, str]:
    """The trace the flow's run continues (its claim's), empty when none was recorded."""
    return flow.run.trace_context if flow.run is not None else {}


def describe(end: AttemptEnd) -> str:
    if end.outcome is None:
        return str(end.error)
    return str(end.outcome.error or end.outcome.kind)


class PhaseExecution(OrchestratorPart):
    """Claim, run and complete attempts of phases. ``new_uow`` gives the units of work a running handler reads
    through (default: this part's own, one read at a time)."""

    def __init__(self, *args: Any, new_uow: Callable[[], UnitOfWork] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._new_uow = new_uow or (lambda: self._uow)

    def policy_of(self, flow: Flow, phase: str) -> PhasePolicy:
        """The policy the phase runs under: the one the flow's contract recorded (its version's errors never
        retried)."""
        declared = self._flow_types.get(flow.flow_type, flow.contract.version).policy_for(phase)
        return flow.contract.policy_for(phase, declared)

    # -- 1. claim -------------------------------------------------------------------------

    async def claim_phase(
        self,
        tenant: Tenant,
        flow_id: UUID,
        operation: Operation = Operation.EXECUTE_PHASE,
        *,
        actor: str,
        owner: str,
        lease_seconds: float,
        phase: str | None = None,
        expected_version: int | None = None,
        flow_type: str | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> ClaimedRun:
        """Begin running a phase of the flow (``execute_phase``: the next pending one or ``phase``; ``retry``: the
        failed one), leased to ``owner``; commit. The caller then runs it (:meth:`run_claimed`) and completes it."""
        run_id = self._new_id()
        async with self._locked(tenant, flow_id, operation, flow_type, idempotency) as change:
            change.lease = (owner, lease_seconds)
            change.flow.claim_phase(
                operation,
                run_id=run_id,
                actor=actor,
                at=self._clock.now(),
                requested=phase,
                expected_version=expected_version,
                trace=self._observer.trace_context(),  # the run continues the claim's trace wherever it runs
            )
        return ClaimedRun(change.flow, run_id, owner, lease_seconds, actor)

    async def claim_due(
        self, work: DueWork, *, owner: str, lease_seconds: float, tenant_limit: int, actor: str
    ) -> ClaimedRun | None:
        """Claim the work ``work`` says is due, if it still is: the next phase of an auto-run flow, or the next
        attempt of a phase. For an attempt whose lease expired, record that the attempt failed (its worker stopped)
        instead; its next attempt is then due. None when there is nothing to run (or the tenant is at its limit)."""
        with self._observer.operation("claim_due", work.tenant, work.flow_id) as observed:
            async with self._uow as uow:
                await uow.scope(work.tenant)
                if work.expired_run is None:  # an expired attempt already counts against the tenant's limit
                    await uow.phase_runs.hold_tenant(work.tenant)
                    if await uow.phase_runs.running(work.tenant) >= tenant_limit:
                        return None
                try:
                    flow = await uow.flows.get_for_update(work.tenant, work.flow_id)
                except (FlowNotFound, FlowBusy):
                    return None
                observed.flow(flow.flow_type, flow.flow_id)
                change = LockedFlow.of(flow, self.adapter_of(flow), observed)
                now = self._clock.now()
                run = flow.run
                if work.expired_run is not None:
                    if run is None or run.run_id != work.expired_run:
                        return None  # ended in the meantime
                    detail = f"phase '{run.phase}': its worker stopped renewing the lease (the lease expired)"
                    end = self._failed_attempt(flow, detail, None)
                    flow.end_attempt(work.expired_run, end, actor=actor, at=now)
                    change.attempt_end = (attempt_result_of(end), detail)
                    claimed = None
                else:
                    due = due_at(flow)
                    if due is None or due > now:
                        return None
                    run_id = self._new_id()
                    change.lease = (owner, lease_seconds)
                    if run is not None:
                        flow.reattempt_phase(run_id=run_id, actor=actor, at=now)
                    else:
                        flow.claim_phase(
                            Operation.EXECUTE_PHASE,
                            run_id=run_id,
                            actor=actor,
                            at=now,
                            # the trace of the change that made it due (an auto-run start, a resume), else this one
                            trace=flow.trace_context or self._observer.trace_context(),
                        )
                    claimed = ClaimedRun(flow, run_id, owner, lease_seconds, actor)
                await uow.flows.save(flow)
                await self._write_views(uow, change)
                await uow.commit()
        return claimed

    # -- 2. run ---------------------------------------------------------------------------

    async def run_claimed(self, claimed: ClaimedRun) -> AttemptEnd:
        """Run the claimed attempt's handler, with no transaction open, within the phase's timeout: how it ended.

        Cancelling the task that awaits this cancels the handler (the CrewAI kickoff with it)."""
        flow, phase = claimed.flow, claimed.phase
        policy = self.policy_of(flow, phase)
        adapter = self._flow_types.adapter_of(flow, ReadsOutsideTransaction(self._new_uow))  # type: ignore[arg-type]
        with (
            self._observer.continued(trace_of_run(flow)),
            self._observer.operation("run_phase", flow.tenant, flow.flow_id) as observed,
        ):
            observed.flow(flow.flow_type, flow.flow_id)
            change = LockedFlow(flow, adapter, observed)
            try:
                async with asyncio.timeout(policy.timeout_seconds) as deadline:
                    outcome = await self._run_phase(
                        change, phase, adapter.run_phase(flow, phase), unexpected_fails=False
                    )
            except TimeoutError as error:
                if deadline.expired():
                    return self._failed_attempt(
                        flow, f"phase '{phase}' timed out after {policy.timeout_seconds:g} s", None
                    )
                return self._failed_attempt(flow, raised(phase, error), error)
            except (StorageUnavailable, ConcurrentModification) as error:  # a read of the handler's: try again
                return self._failed_attempt(flow, raised(phase, error), None)
            except DomainError as error:  # the flow's own data refused (as PhaseFailed would): no attempt helps
                return AttemptEnd.of(PhaseOutcome.failed(f"{raised(phase, error)}; POST .../retry runs it again"))
            except Exception as error:
                return self._failed_attempt(flow, raised(phase, error), error)
        return AttemptEnd.of(outcome)

    def _failed_attempt(self, flow: Flow, error: str, raised: BaseException | None) -> AttemptEnd:
        """An attempt of ``flow``'s running phase failed with ``error``: the next attempt's time, if it gets one."""
        run = flow.run
        assert run is not None
        policy = self.policy_of(flow, run.phase)
        if run.attempt >= policy.max_attempts or not policy.retries(raised):
            return AttemptEnd.failed(error, None)
        delay = policy.backoff.delay_seconds(run.attempt, random.random())
        return AttemptEnd.failed(error, self._clock.now() + timedelta(seconds=delay))

    # -- 3. complete ----------------------------------------------------------------------

    async def complete_run(
        self, claimed: ClaimedRun, end: AttemptEnd, *, actor: str, go_on: bool = False
    ) -> Flow | None:
        """Record how the claimed attempt ended, if the flow still runs it; the flow after it, or None when the
        flow no longer expected it (then only its discarding is recorded).

        ``go_on``: a runner that will run the next phase of an auto-run flow left running claims it in the same
        transaction and event (leased to the same owner); the returned flow's ``run`` is then that attempt."""
        tenant, flow_id = claimed.tenant, claimed.flow.flow_id
        with (
            self._observer.continued(trace_of_run(claimed.flow)),
            self._observer.operation(str(Operation.COMPLETE_PHASE), tenant, flow_id) as observed,
        ):
            async with self._uow as uow:
                await uow.scope(tenant)
                flow = await uow.flows.get_for_update(tenant, flow_id)
                observed.flow(flow.flow_type, flow.flow_id)
                change = LockedFlow.of(flow, self.adapter_of(flow), observed)
                next_run_id = self._new_id() if go_on else None
                try:
                    flow.end_attempt(claimed.run_id, end, actor=actor, at=self._clock.now(), next_run_id=next_run_id)
                except StaleRun as stale:
                    detail = f"{stale.reason}; its outcome ({describe(end)}) was discarded"
                    await uow.phase_runs.end(tenant, flow_id, claimed.run_id, AttemptResult.DISCARDED, detail)
                    await uow.commit()
                    return None
                change.outcome = end.outcome
                change.attempt_end = (attempt_result_of(end), None if end.outcome else end.error)
                change.lease = (claimed.owner, claimed.lease_seconds)
                await uow.flows.save(flow)
                await self._write_views(uow, change)
                await uow.commit()
        return flow

    # -- all three, in the caller's task ----------------------------------------------------

    async def execute_phase(
        self,
        tenant: Tenant,
        flow_id: UUID,
        phase: str | None = None,
        *,
        actor: str,
        expected_version: int | None = None,
        flow_type: str | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Flow:
        """Claim, run and complete the next phase (or ``phase``) in this call; the flow after it."""
        return await self._inline(
            Operation.EXECUTE_PHASE, tenant, flow_id, phase, actor, expected_version, flow_type, idempotency
        )

    async def retry_flow(
        self,
        tenant: Tenant,
        flow_id: UUID,
        *,
        actor: str,
        expected_version: int | None = None,
        flow_type: str | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Flow:
        """Claim, run and complete the failed phase again in this call; the flow after it."""
        return await self._inline(
            Operation.RETRY, tenant, flow_id, None, actor, expected_version, flow_type, idempotency
        )

    async def _inline(
        self,
        operation: Operation,
        tenant: Tenant,
        flow_id: UUID,
        phase: str | None,
        actor: str,
        expected_version: int | None,
        flow_type: str | None,
        idempotency: IdempotentRequest | None,
    ) -> Flow:
        claimed = await self.claim_phase(
            tenant,
            flow_id,
            operation,
            actor=actor,
            owner=INLINE_OWNER,
            lease_seconds=self._longest_timeout() + INLINE_LEASE_MARGIN_SECONDS,
            phase=phase,
            expected_version=expected_version,
            flow_type=flow_type,
            idempotency=idempotency,
        )
        while True:
            end = await self.run_claimed(claimed)
            flow = await self.complete_run(claimed, end, actor=actor)
            if flow is None:
                return await self._as_it_is(tenant, flow_id)
            if flow.run is None or flow.run.retry_at is None:
                return flow
            # the attempt failed and another is due: wait for it here, as a runner would
            await asyncio.sleep(max(0.0, (flow.run.retry_at - self._clock.now()).total_seconds()))
            reclaimed = await self.claim_due(
                DueWork(tenant, flow_id),
                owner=INLINE_OWNER,
                lease_seconds=claimed.lease_seconds,
                tenant_limit=1 << 30,
                actor=actor,
            )
            if reclaimed is None:  # taken by a runner, paused or cancelled meanwhile: the flow as it is
                return await self._as_it_is(tenant, flow_id)
            claimed = reclaimed

    async def _as_it_is(self, tenant: Tenant, flow_id: UUID) -> Flow:
        async with self._uow as uow:
            await uow.scope(tenant)
            return await uow.flows.get(tenant, flow_id)

    def _longest_timeout(self) -> float:
        """The longest timeout of any registered phase (which phase runs is known only under the claim's lock)."""
        definitions = [v for name in self._flow_types.names() for v in self._flow_types.versions(name)]
        return max(
            (d.policy_for(p).timeout_seconds for d in definitions for p in d.phases),
            default=INLINE_LEASE_MARGIN_SECONDS,
        )
