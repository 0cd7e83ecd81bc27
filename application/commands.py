"""The orchestrator's commands: every state change of a flow, each one transaction on the unit of work.

Every command that changes an existing flow reads the same way: ``async with self._locked(...) as change`` locks
the flow's row (scoped to the tenant, after claiming the idempotency key), the block lets the aggregate decide
(and the flow type run a phase), and leaving the block writes the master row, the child record, the events and
the next background job, stores the idempotent answer and commits. An error anywhere rolls everything back.

``flow_type`` restricts a command to flows of one type (the legacy routes see discovery flows only: others are not
found); ``idempotency`` makes the change claim a key in its own transaction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.idempotency import claim_key, store_answer
from application.orchestration import LockedFlow
from application.phase_execution import PhaseExecution
from domain.errors import InvalidFlowInput
from domain.events import Tenant
from domain.flow import Flow
from domain.idempotency import IdempotentRequest
from domain.lifecycle import Operation
from domain.storable import ensure_storable


class FlowCommands(PhaseExecution):
    """Every change a client asks for; executing and retrying a phase are phase execution's (claim, run,
    complete)."""

    async def create_flow(
        self,
        tenant: Tenant,
        flow_type: str,
        name: str,
        configuration: dict[str, Any],
        *,
        actor: str,
        idempotency: IdempotentRequest | None = None,
    ) -> Flow:
        return await self._create(tenant, flow_type, name, configuration, actor, Operation.CREATE, idempotency)

    async def initialize_flow(
        self,
        tenant: Tenant,
        flow_type: str,
        name: str,
        configuration: dict[str, Any],
        *,
        actor: str,
        idempotency: IdempotentRequest | None = None,
    ) -> Flow:
        """Create and start a flow in one transaction (two events), as the legacy ``initialize`` routes do."""
        return await self._create(tenant, flow_type, name, configuration, actor, "initialize", idempotency)

    async def start_flow(
        self,
        tenant: Tenant,
        flow_id: UUID,
        *,
        actor: str,
        expected_version: int | None = None,
        auto_run: bool = False,
        flow_type: str | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Flow:
        """Start the flow; with ``auto_run`` its phases then run in the background (application/phase_runner.py),
        the first claimed by a runner in this call's trace."""
        async with self._locked(tenant, flow_id, Operation.START, flow_type, idempotency) as change:
            change.flow.start(
                actor=actor,
                at=self._clock.now(),
                expected_version=expected_version,
                auto_run=auto_run,
                trace=self._observer.trace_context(),
            )
        return change.flow

    async def submit_input(
        self,
        tenant: Tenant,
        flow_id: UUID,
        payload: dict[str, Any],
        *,
        actor: str,
        expected_version: int | None = None,
        flow_type: str | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Flow:
        ensure_storable(payload, "the input")
        async with self._locked(tenant, flow_id, Operation.SUBMIT_INPUT, flow_type, idempotency) as change:
            flow = change.flow
            name = flow.phase_awaiting_input(expected_version)
            outcome = await self._run_phase(change, name, change.adapter.accept_input(flow, name, payload))
            flow.record_phase_outcome(
                Operation.SUBMIT_INPUT,
                name,
                outcome,
                actor=actor,
                at=self._clock.now(),
                extra={"input": payload},
                trace=self._observer.trace_context(),
            )
        return change.flow

    async def pause_flow(
        self,
        tenant: Tenant,
        flow_id: UUID,
        *,
        actor: str,
        expected_version: int | None = None,
        flow_type: str | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Flow:
        async with self._locked(tenant, flow_id, Operation.PAUSE, flow_type, idempotency) as change:
            change.flow.pause(actor=actor, at=self._clock.now(), expected_version=expected_version)
        return change.flow

    async def resume_flow(
        self,
        tenant: Tenant,
        flow_id: UUID,
        *,
        actor: str,
        expected_version: int | None = None,
        flow_type: str | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Flow:
        async with self._locked(tenant, flow_id, Operation.RESUME, flow_type, idempotency) as change:
            change.flow.resume(
                actor=actor,
                at=self._clock.now(),
                expected_version=expected_version,
                trace=self._observer.trace_context(),
            )
        return change.flow

    async def cancel_flow(
        self,
        tenant: Tenant,
        flow_id: UUID,
        *,
        actor: str,
        expected_version: int | None = None,
        flow_type: str | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Flow:
        async with self._locked(tenant, flow_id, Operation.CANCEL, flow_type, idempotency) as change:
            change.flow.cancel(actor=actor, at=self._clock.now(), expected_version=expected_version)
        return change.flow

    async def delete_flow(
        self,
        tenant: Tenant,
        flow_id: UUID,
        *,
        actor: str,
        expected_version: int | None = None,
        flow_type: str | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Flow:
        async with self._locked(tenant, flow_id, Operation.DELETE, flow_type, idempotency) as change:
            change.flow.delete(actor=actor, at=self._clock.now(), expected_version=expected_version)
        return change.flow

    async def purge_expired_idempotency_keys(self, limit: int = 10_000) -> int:
        """Delete up to ``limit`` expired idempotency keys (of every tenant); the number deleted."""
        async with self._uow as uow:
            purged = await uow.idempotency.purge_expired(self._clock.now(), limit)
            await uow.commit()
        return purged

    # -- the one write path --------------------------------------------------------------

    async def _create(
        self,
        tenant: Tenant,
        flow_type: str,
        name: str,
        configuration: dict[str, Any],
        actor: str,
        operation: str,
        idempotency: IdempotentRequest | None,
    ) -> Flow:
        with self._observer.operation(str(operation), tenant, None) as observed:
            definition = self._flow_types.get(flow_type)
            if not name.strip():
                raise InvalidFlowInput("a flow needs a non-empty name")
            ensure_storable(name, "the name")
            ensure_storable(configuration, "the configuration")
            definition.validate_configuration(configuration)
            flow = Flow.create(
                flow_id=self._new_id(),
                tenant=tenant,
                flow_type=definition.name,
                name=name,
                phases=list(definition.phases),
                configuration=configuration,
                actor=actor,
                at=self._clock.now(),
                contract=self._flow_types.new_contract(flow_type),
            )
            if operation == "initialize":
                flow.start(actor=actor, at=self._clock.now())
            observed.flow(flow.flow_type, flow.flow_id)
            async with self._uow as uow:
                await uow.scope(tenant)
                await claim_key(uow, tenant, idempotency, self._clock)
                await uow.flows.add(flow)
                await self._write_views(uow, LockedFlow.of(flow, self.adapter_of(flow), observed))
                await self._announce_if_due(uow, flow)
                await store_answer(uow, tenant, idempotency, flow)
                await uow.commit()
        return flow
