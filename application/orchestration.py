"""What the orchestrator's parts share: their collaborators, and the steps every write takes the same way.

The commands (application/commands.py), the queries (application/queries.py) and the background phase runner
(application/phase_runner.py) each run on the one unit of work they are given; none opens a session itself.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID, uuid4

from application.flow_type_registry import FlowTypeRegistry
from application.idempotency import claim_key, store_answer
from application.observation import NO_OBSERVER
from domain.background import AttemptResult, due_at
from domain.errors import DomainError, FlowNotFound, PhaseFailed
from domain.events import Tenant
from domain.flow import Flow, FlowSummary, PhaseRun
from domain.idempotency import IdempotentRequest
from domain.phases import PhaseOutcome
from domain.ports import Clock, FlowTypeAdapter, ObservedOperation, OperationObserver, UnitOfWork


@dataclass
class LockedFlow:
    """One flow being changed in one transaction: the locked flow, its type's adapter, the operation being
    observed, what a phase produced (stored with the child record), and what the change does to the flow's phase
    run: the run it had when it was locked, the lease a newly begun attempt gets (owner, seconds), and how the
    attempt it ends ended (result, detail)."""

    flow: Flow
    adapter: FlowTypeAdapter
    observed: ObservedOperation
    outcome: PhaseOutcome | None = None
    run_before: PhaseRun | None = None
    lease: tuple[str, float] | None = None
    attempt_end: tuple[str, str | None] | None = None

    @classmethod
    def of(cls, flow: Flow, adapter: FlowTypeAdapter, observed: ObservedOperation) -> LockedFlow:
        return cls(flow, adapter, observed, run_before=flow.run)


class OrchestratorPart:
    def __init__(
        self,
        uow: UnitOfWork,
        flow_types: FlowTypeRegistry,
        clock: Clock,
        new_id: Callable[[], UUID] = uuid4,
        observer: OperationObserver = NO_OBSERVER,
    ) -> None:
        self._uow = uow
        self._flow_types = flow_types
        self._clock = clock
        self._new_id = new_id
        self._observer = observer

    @property
    def unit_of_work(self) -> UnitOfWork:
        return self._uow

    @property
    def flow_types(self) -> FlowTypeRegistry:
        return self._flow_types

    def get_flow_service(self, flow_type: str) -> FlowTypeAdapter:
        """The adapter new flows of ``flow_type`` run on, built on this orchestrator's unit of work."""
        return self._flow_types.adapter_for(flow_type, self._uow)

    def adapter_of(self, flow: FlowSummary) -> FlowTypeAdapter:
        """The adapter ``flow`` runs on (its recorded contract's version and engine), on this unit of work."""
        return self._flow_types.adapter_of(flow, self._uow)

    async def _run_phase(
        self, change: LockedFlow, phase: str, run: Awaitable[PhaseOutcome], *, unexpected_fails: bool = True
    ) -> PhaseOutcome:
        """Run one phase through the flow type's adapter, in a span of its own; report and keep its outcome.

        ``unexpected_fails``: an unexpected error of the phase is the phase's failure, recorded with the error
        (the flow is ``failed``, and may be retried); otherwise it aborts the operation (a background job is then
        tried again by its worker)."""
        with self._observer.span("mfo.phase", phase=phase):
            outcome = await _outcome_of(phase, run, unexpected_fails)
        change.observed.phase(phase, outcome)
        change.outcome = outcome
        return outcome

    @asynccontextmanager
    async def _locked(
        self,
        tenant: Tenant,
        flow_id: UUID,
        operation: str,
        flow_type: str | None,
        idempotency: IdempotentRequest | None,
    ) -> AsyncIterator[LockedFlow]:
        """Lock the flow's row for the block (``SELECT … FOR UPDATE``), then write what the block changed and
        commit: one transaction, or nothing if the block (or a write) raises."""
        with self._observer.operation(str(operation), tenant, flow_id) as observed:
            async with self._uow as uow:
                await uow.scope(tenant)
                await claim_key(uow, tenant, idempotency, self._clock)
                flow = visible(await uow.flows.get_for_update(tenant, flow_id), flow_type)
                observed.flow(flow.flow_type, flow.flow_id)
                change = LockedFlow.of(flow, self.adapter_of(flow), observed)
                yield change
                await uow.flows.save(flow)
                await self._write_views(uow, change)
                await self._announce_if_due(uow, flow)
                await store_answer(uow, tenant, idempotency, flow)
                await uow.commit()

    async def _announce_if_due(self, uow: UnitOfWork, flow: Flow) -> None:
        """A change that made the flow's phase work due now (an auto-run start, approved input, a resume) wakes the
        runners at its commit, rather than at their next poll."""
        due = due_at(flow)
        if due is not None and due <= self._clock.now():
            await uow.phase_runs.announce_due()

    @staticmethod
    async def _write_views(uow: UnitOfWork, change: LockedFlow) -> None:
        """After the master row: the child record (and the bridge's state), the events, and the leases and
        attempts of the flow's phase run. All in ``uow``'s transaction."""
        flow = change.flow
        await change.adapter.save_child(flow, change.outcome)
        await uow.events.append(flow.pending_events)
        before = change.run_before.run_id if change.run_before else None
        after = flow.run.run_id if flow.run else None
        if before is not None and before != after:  # the attempt ended (or the flow stopped it): no more lease
            result, detail = change.attempt_end or (
                AttemptResult.REVOKED,
                f"the flow was {flow.status} while the attempt ran",
            )
            await uow.phase_runs.end(flow.tenant, flow.flow_id, before, result, detail)
        if after is not None and after != before:  # an attempt began: its runner holds it
            assert change.lease is not None, "an attempt begins only with a lease"
            owner, seconds = change.lease
            await uow.phase_runs.grant(flow, after, owner, seconds)


def raised(phase: str, error: BaseException) -> str:
    """How an attempt that raised unexpectedly ended: the error's type and message (at most 300 characters)."""
    message = f"{type(error).__name__}: {error}"
    if len(message) > 300:
        message = message[:299] + "…"
    return f"phase '{phase}' raised an unexpected error ({message})"


def unexpected_error(phase: str, error: Exception) -> str:
    """The error a phase that raised unexpectedly records."""
    return f"{raised(phase, error)}; POST .../retry runs it again"


def visible(flow: Flow, flow_type: str | None) -> Flow:
    """``flow``, unless the caller sees only flows of ``flow_type`` and it is of another: then it is not found."""
    if flow_type is not None and flow.flow_type != flow_type:
        raise FlowNotFound(flow.flow_id)
    return flow


async def _outcome_of(phase: str, run: Awaitable[PhaseOutcome], unexpected_fails: bool) -> PhaseOutcome:
    """A phase's outcome, timed. A ``PhaseFailed`` is a failed outcome; so is any error that is not a domain error
    when ``unexpected_fails``. A domain error (the client's input refused, the store unavailable, a busy flow)
    aborts the operation, as it would outside a phase."""
    started = time.perf_counter()
    try:
        outcome = await run
    except PhaseFailed as failure:
        outcome = PhaseOutcome.failed(str(failure), failure.details)
    except DomainError:
        raise
    except Exception as error:
        if not unexpected_fails:
            raise
        outcome = PhaseOutcome.failed(unexpected_error(phase, error))
    timings = {**outcome.trace.get("timings_ms", {}), "orchestrator": round((time.perf_counter() - started) * 1000, 3)}
    return outcome.with_trace(timings_ms=timings)
