"""MasterFlowOrchestrator: the only entry point for flow operations.

Each state-changing method is one transaction on the unit of work it was given:
scope it to the tenant (row-level security), lock the master row, let the aggregate decide,
let the flow type's adapter do its work and update its child record, write the master row
and the event, commit. If any step raises, nothing is committed. The orchestrator never
opens a session itself.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

from application.flow_type_registry import FlowTypeRegistry
from application.idempotency import claim_key, store_answer
from application.observation import NO_OBSERVER
from application.views import FlowStatusView
from domain.background import BackgroundRun, PhaseJob, gave_up_error, job_for, runs_in_background
from domain.errors import FlowNotFound, InvalidFlowInput, PhaseFailed
from domain.events import FlowEvent, Tenant
from domain.flow import Flow, FlowSummary
from domain.idempotency import IdempotentRequest
from domain.lifecycle import Operation
from domain.phases import PhaseOutcome
from domain.ports import Clock, FlowFilter, FlowTypeAdapter, ObservedOperation, OperationObserver, Page, UnitOfWork
from domain.storable import ensure_storable

Step = Callable[[Flow, FlowTypeAdapter, ObservedOperation], Awaitable[None]]
SimpleTransition = Callable[..., FlowEvent]


class MasterFlowOrchestrator:
    def __init__(
        self,
        uow: UnitOfWork,
        flow_types: FlowTypeRegistry,
        clock: Clock,
        new_id: Callable[[], UUID] = uuid4,
        only_type: str | None = None,
        observer: OperationObserver = NO_OBSERVER,
        idempotency: IdempotentRequest | None = None,
    ) -> None:
        self._uow = uow
        self._flow_types = flow_types
        self._clock = clock
        self._new_id = new_id
        self._only_type = only_type
        self._observer = observer
        self._idempotency = idempotency

    def restricted_to(self, flow_type: str) -> MasterFlowOrchestrator:
        """The same orchestrator (same unit of work) seeing only flows of ``flow_type``; others are not found."""
        self._flow_types.get(flow_type)
        return self._with(only_type=flow_type, idempotency=self._idempotency)

    def idempotent(self, request: IdempotentRequest | None) -> MasterFlowOrchestrator:
        """The same orchestrator whose next change claims ``request.key`` in its own transaction.

        A key answered before raises ``IdempotentReplay`` (with the stored answer) and changes nothing; the change's
        answer, ``request.render(flow)``, is stored and committed with the change.
        """
        return self._with(only_type=self._only_type, idempotency=request)

    def _with(self, *, only_type: str | None, idempotency: IdempotentRequest | None) -> MasterFlowOrchestrator:
        return MasterFlowOrchestrator(
            self._uow,
            self._flow_types,
            self._clock,
            self._new_id,
            only_type=only_type,
            observer=self._observer,
            idempotency=idempotency,
        )

    @property
    def unit_of_work(self) -> UnitOfWork:
        return self._uow

    @property
    def flow_types(self) -> FlowTypeRegistry:
        return self._flow_types

    def get_flow_service(self, flow_type: str) -> FlowTypeAdapter:
        """The registered adapter of ``flow_type``, built on this orchestrator's unit of work."""
        return self._flow_types.adapter_for(flow_type, self._uow)

    # -- commands --------------------------------------------------------------------------

    async def create_flow(
        self, tenant: Tenant, flow_type: str, name: str, configuration: dict[str, Any], *, actor: str
    ) -> Flow:
        return await self._create(tenant, flow_type, name, configuration, actor, start=False, operation="create")

    async def initialize_flow(
        self, tenant: Tenant, flow_type: str, name: str, configuration: dict[str, Any], *, actor: str
    ) -> Flow:
        """Create and start a flow in one transaction (two events), as the legacy ``initialize`` routes do."""
        return await self._create(tenant, flow_type, name, configuration, actor, start=True, operation="initialize")

    async def start_flow(
        self,
        tenant: Tenant,
        flow_id: UUID,
        *,
        actor: str,
        expected_version: int | None = None,
        auto_run: bool = False,
    ) -> Flow:
        """Start the flow; with ``auto_run`` its phases then run in the background (``run_background_phase``)."""

        async def step(flow: Flow, _: FlowTypeAdapter, __: ObservedOperation) -> None:
            flow.start(actor=actor, at=self._clock.now(), expected_version=expected_version, auto_run=auto_run)

        return await self._change(tenant, flow_id, step, Operation.START)

    async def execute_phase(
        self,
        tenant: Tenant,
        flow_id: UUID,
        phase: str | None = None,
        *,
        actor: str,
        expected_version: int | None = None,
    ) -> Flow:
        async def step(flow: Flow, adapter: FlowTypeAdapter, observed: ObservedOperation) -> None:
            name = flow.phase_to_execute(phase, expected_version)
            outcome = await self._phase(observed, name, adapter.run_phase(flow, name))
            flow.record_phase_outcome(Operation.EXECUTE_PHASE, name, outcome, actor=actor, at=self._clock.now())

        return await self._change(tenant, flow_id, step, Operation.EXECUTE_PHASE)

    async def submit_input(
        self,
        tenant: Tenant,
        flow_id: UUID,
        payload: dict[str, Any],
        *,
        actor: str,
        expected_version: int | None = None,
    ) -> Flow:
        ensure_storable(payload, "the input")

        async def step(flow: Flow, adapter: FlowTypeAdapter, observed: ObservedOperation) -> None:
            name = flow.phase_awaiting_input(expected_version)
            outcome = await self._phase(observed, name, adapter.accept_input(flow, name, payload))
            flow.record_phase_outcome(
                Operation.SUBMIT_INPUT, name, outcome, actor=actor, at=self._clock.now(), extra={"input": payload}
            )

        return await self._change(tenant, flow_id, step, Operation.SUBMIT_INPUT)

    async def retry_flow(
        self, tenant: Tenant, flow_id: UUID, *, actor: str, expected_version: int | None = None
    ) -> Flow:
        async def step(flow: Flow, adapter: FlowTypeAdapter, observed: ObservedOperation) -> None:
            name = flow.phase_to_retry(expected_version)
            outcome = await self._phase(observed, name, adapter.run_phase(flow, name))
            flow.record_phase_outcome(Operation.RETRY, name, outcome, actor=actor, at=self._clock.now())

        return await self._change(tenant, flow_id, step, Operation.RETRY)

    async def pause_flow(
        self, tenant: Tenant, flow_id: UUID, *, actor: str, expected_version: int | None = None
    ) -> Flow:
        return await self._change(tenant, flow_id, self._simple(Flow.pause, actor, expected_version), Operation.PAUSE)

    async def resume_flow(
        self, tenant: Tenant, flow_id: UUID, *, actor: str, expected_version: int | None = None
    ) -> Flow:
        return await self._change(tenant, flow_id, self._simple(Flow.resume, actor, expected_version), Operation.RESUME)

    async def cancel_flow(
        self, tenant: Tenant, flow_id: UUID, *, actor: str, expected_version: int | None = None
    ) -> Flow:
        return await self._change(tenant, flow_id, self._simple(Flow.cancel, actor, expected_version), Operation.CANCEL)

    async def delete_flow(
        self, tenant: Tenant, flow_id: UUID, *, actor: str, expected_version: int | None = None
    ) -> Flow:
        return await self._change(tenant, flow_id, self._simple(Flow.delete, actor, expected_version), Operation.DELETE)

    async def run_background_phase(
        self, tenant: Tenant, flow_id: UUID, *, expected_version: int, max_attempts: int, actor: str
    ) -> BackgroundRun:
        """A worker's job: run the next phase of an auto-run flow that is still at ``expected_version``.

        A flow that moved on (paused, cancelled, waiting for input, another version) is left alone, checked under
        the row lock. Otherwise the start is counted first, in a transaction of its own, so that a worker that dies
        mid-phase still used up an attempt (a flow that is merely busy costs none). Then, under the lock again:
        after ``max_attempts`` starts that never finished, the phase fails with an error saying so; otherwise it
        runs exactly as ``execute_phase`` runs it, and the next phase's job is queued in the same transaction.
        """
        job = PhaseJob(tenant, flow_id, expected_version)
        with self._observer.operation("background_phase", tenant, flow_id) as observed:
            async with self._uow as uow:
                await uow.scope(tenant)
                # Under the lock: a flow that is busy (FlowBusy) or has moved on costs no attempt.
                if await self._flow_due(uow, job) is None:
                    return BackgroundRun.SKIPPED
                attempt = await uow.work_queue.record_attempt(job)
                await uow.commit()
            async with self._uow as uow:
                await uow.scope(tenant)
                flow = await self._flow_due(uow, job)
                if flow is None:  # changed in between: nothing to do
                    return BackgroundRun.SKIPPED
                observed.flow(flow.flow_type, flow.flow_id)
                adapter = self.get_flow_service(flow.flow_type)
                name = flow.phase_to_execute()
                if attempt > max_attempts:
                    result, outcome = BackgroundRun.GAVE_UP, PhaseOutcome.failed(gave_up_error(name, attempt - 1))
                else:
                    result, outcome = (
                        BackgroundRun.RAN,
                        await self._phase(observed, name, adapter.run_phase(flow, name)),
                    )
                flow.record_phase_outcome(
                    Operation.EXECUTE_PHASE,
                    name,
                    outcome,
                    actor=actor,
                    at=self._clock.now(),
                    extra={"background_attempt": attempt},
                )
                await uow.flows.save(flow)
                await self._write_child_and_events(uow, adapter, flow)
                await uow.work_queue.clear_attempts(job)
                await self._queue_next_phase(uow, flow)
                await uow.commit()
        return result

    async def _flow_due(self, uow: UnitOfWork, job: PhaseJob) -> Flow | None:
        """The locked flow whose next phase is ``job``'s to run; else None, the job's attempts forgotten (committed)."""
        try:
            flow = self._visible(await uow.flows.get_for_update(job.tenant, job.flow_id))
        except FlowNotFound:
            flow = None
        if flow is not None and flow.version == job.expected_version and runs_in_background(flow):
            return flow
        await uow.work_queue.clear_attempts(job)
        await uow.commit()
        return None

    # -- queries ---------------------------------------------------------------------------

    async def get_flow(self, tenant: Tenant, flow_id: UUID) -> Flow:
        async with self._uow as uow:
            await uow.scope(tenant)
            return self._visible(await uow.flows.get(tenant, flow_id))

    async def get_flow_status(self, tenant: Tenant, flow_id: UUID) -> FlowStatusView:
        async with self._uow as uow:
            await uow.scope(tenant)
            flow = self._visible(await uow.flows.get(tenant, flow_id))
            adapter = self.get_flow_service(flow.flow_type)
            child = await adapter.load_child(tenant, flow_id)
            projected = adapter.project_status(child) if child else None
            return FlowStatusView(flow=flow, child=child, child_projected_status=projected)

    async def list_flows(
        self, tenant: Tenant, flow_filter: FlowFilter, *, limit: int = 50, cursor: str | None = None
    ) -> Page[FlowSummary]:
        if flow_filter.flow_type is not None:
            self._flow_types.get(flow_filter.flow_type)
        async with self._uow as uow:
            await uow.scope(tenant)
            return await uow.flows.list(tenant, flow_filter, limit, cursor)

    async def get_flow_events(
        self, tenant: Tenant, flow_id: UUID, *, after_version: int = 0, limit: int = 100
    ) -> list[FlowEvent]:
        async with self._uow as uow:
            await uow.scope(tenant)
            self._visible(await uow.flows.get(tenant, flow_id))
            return await uow.events.list(tenant, flow_id, after_version, limit)

    # -- the one write path --------------------------------------------------------------

    async def _change(self, tenant: Tenant, flow_id: UUID, step: Step, operation: str) -> Flow:
        with self._observer.operation(str(operation), tenant, flow_id) as observed:
            async with self._uow as uow:
                await uow.scope(tenant)
                await claim_key(uow, tenant, self._idempotency, self._clock)
                flow = self._visible(await uow.flows.get_for_update(tenant, flow_id))
                observed.flow(flow.flow_type, flow.flow_id)
                adapter = self.get_flow_service(flow.flow_type)
                await step(flow, adapter, observed)
                await uow.flows.save(flow)
                await self._write_child_and_events(uow, adapter, flow)
                await self._queue_next_phase(uow, flow)
                await store_answer(uow, tenant, self._idempotency, flow)
                await uow.commit()
        return flow

    async def _phase(self, observed: ObservedOperation, phase: str, run: Awaitable[PhaseOutcome]) -> PhaseOutcome:
        """Run one phase through the flow type's adapter, in a span of its own, and report how it went."""
        with self._observer.span("mfo.phase", phase=phase):
            outcome = await _outcome_of(run)
        observed.phase(phase, outcome)
        return outcome

    async def _create(
        self,
        tenant: Tenant,
        flow_type: str,
        name: str,
        configuration: dict[str, Any],
        actor: str,
        *,
        start: bool,
        operation: str,
    ) -> Flow:
        with self._observer.operation(operation, tenant, None) as observed:
            definition = self._flow_types.get(flow_type)
            if not name.strip():
                raise InvalidFlowInput("a flow needs a non-empty name")
            ensure_storable(name, "the name")
            ensure_storable(configuration, "the configuration")
            async with self._uow as uow:
                await uow.scope(tenant)
                await claim_key(uow, tenant, self._idempotency, self._clock)
                adapter = self.get_flow_service(flow_type)
                flow = Flow.create(
                    flow_id=self._new_id(),
                    tenant=tenant,
                    flow_type=definition.name,
                    name=name,
                    phases=list(definition.phases),
                    configuration=configuration,
                    actor=actor,
                    at=self._clock.now(),
                )
                observed.flow(flow.flow_type, flow.flow_id)
                if start:
                    flow.start(actor=actor, at=self._clock.now())
                await uow.flows.add(flow)
                await self._write_child_and_events(uow, adapter, flow)
                await store_answer(uow, tenant, self._idempotency, flow)
                await uow.commit()
        return flow

    async def purge_expired_idempotency_keys(self, limit: int = 10_000) -> int:
        """Delete up to ``limit`` expired idempotency keys (of every tenant); the number deleted."""
        async with self._uow as uow:
            purged = await uow.idempotency.purge_expired(self._clock.now(), limit)
            await uow.commit()
        return purged

    def _visible(self, flow: Flow) -> Flow:
        if self._only_type is not None and flow.flow_type != self._only_type:
            raise FlowNotFound(flow.flow_id)
        return flow

    def _simple(self, transition: SimpleTransition, actor: str, expected_version: int | None) -> Step:
        """A step that applies one of the aggregate's phase-less transitions."""

        async def step(flow: Flow, _: FlowTypeAdapter, __: ObservedOperation) -> None:
            transition(flow, actor=actor, at=self._clock.now(), expected_version=expected_version)

        return step

    @staticmethod
    async def _queue_next_phase(uow: UnitOfWork, flow: Flow) -> None:
        """The outbox: an auto-run flow left running gets its next phase queued in this same transaction."""
        job = job_for(flow)
        if job is not None:
            await uow.work_queue.enqueue_phase(job)

    @staticmethod
    async def _write_child_and_events(uow: UnitOfWork, adapter: FlowTypeAdapter, flow: Flow) -> None:
        """After the master row: the child record, then the events. All in ``uow``'s transaction."""
        await adapter.save_child(flow)
        await uow.events.append(list(flow.pending_events))
        flow.pending_events.clear()


async def _outcome_of(run: Awaitable[PhaseOutcome]) -> PhaseOutcome:
    """A phase's outcome, timed; a ``PhaseFailed`` becomes a failed outcome, any other error aborts."""
    started = time.perf_counter()
    try:
        outcome = await run
    except PhaseFailed as failure:
        outcome = PhaseOutcome.failed(str(failure), failure.details)
    timings = {**outcome.trace.get("timings_ms", {}), "orchestrator": _ms_since(started)}
    return outcome.with_trace(timings_ms=timings)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
