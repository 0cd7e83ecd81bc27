"""The orchestrator's commands: every state change of a flow, each one transaction on the unit of work.

Every command that changes an existing flow reads the same way: ``async with self._locked(...) as change`` locks
the flow's row (scoped to the tenant, after claiming the idempotency key), the block lets the aggregate decide
(and the flow type run a phase), and leaving the block writes the master row, the child record, the events and
the next background job, stores the idempotent answer and commits. An error anywhere rolls everything back.

``flow_type`` restricts a command to flows of one type (the legacy routes see discovery flows only: others are not
found); ``idempotency`` makes the change claim a key in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.idempotency import claim_key, store_answer
from application.orchestration import LockedFlow, visible
from application.phase_execution import PhaseExecution
from domain.contract import ExecutionContract, MigrationPlan, PhaseMapping
from domain.errors import ConcurrentModification, DomainError, IllegalTransition, InvalidFlowInput, MigrationRefused
from domain.events import Tenant
from domain.flow import Flow, FlowSummary
from domain.idempotency import IdempotentRequest
from domain.lifecycle import FlowStatus, Operation
from domain.ports import FlowFilter
from domain.storable import ensure_storable


@dataclass(frozen=True)
class MigrationSelection:
    """The flows a bulk migration moves: a tenant's flows of ``flow_type`` at ``from_version`` (in ``statuses``,
    or any but deleted), at most ``limit`` of them, newest first, to ``to_version``."""

    flow_type: str
    from_version: int
    to_version: int
    statuses: tuple[FlowStatus, ...] | None = None
    limit: int = 100


@dataclass(frozen=True)
class BulkMigrationItem:
    """What a bulk migration did (or, in a dry run, would do) to one flow: ``migrated``, ``would_migrate`` or
    ``refused`` (with ``reason``); ``version``: the flow's version after it (its current one otherwise)."""

    flow_id: UUID
    outcome: str
    version: int
    plan: MigrationPlan | None = None
    reason: str | None = None


def _why(refusal: DomainError) -> str:
    """Why one flow of a bulk migration was not moved: the mapping's reason, the transition refused, or a flow busy
    with another operation (its lock held past the lock timeout, or a race lost), which a later run may move."""
    if isinstance(refusal, MigrationRefused):
        return refusal.reason
    if isinstance(refusal, ConcurrentModification):
        return f"busy with another operation ({refusal.reason}); run the migration again to move it"
    return str(refusal)


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

    # -- migration to another version of the flow's type -----------------------------------

    async def migrate_flow(
        self,
        tenant: Tenant,
        flow_id: UUID,
        to_version: int,
        *,
        actor: str,
        expected_version: int | None = None,
        flow_type: str | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Flow:
        """Move the flow to ``to_version`` of its type under the mapping that version declares: one transaction,
        one event. ``MigrationRefused`` (nothing changed) when the mapping cannot express it."""
        async with self._locked(tenant, flow_id, Operation.MIGRATE, flow_type, idempotency) as change:
            flow = change.flow
            target, mapping = self._migration_target(flow, to_version)
            flow.migrate(target, mapping, actor=actor, at=self._clock.now(), expected_version=expected_version)
            change.adapter = self.adapter_of(flow)  # the child and the mirrors are written as the new version's
        return change.flow

    async def plan_flow_migration(
        self, tenant: Tenant, flow_id: UUID, to_version: int, *, flow_type: str | None = None
    ) -> MigrationPlan:
        """What :meth:`migrate_flow` would change (a dry run: nothing is written), or ``MigrationRefused``."""
        async with self._uow as uow:
            await uow.scope(tenant)
            flow = visible(await uow.flows.get(tenant, flow_id), flow_type)
        return flow.migration_plan(*self._migration_target(flow, to_version))

    async def migrate_flows(
        self,
        tenant: Tenant,
        selection: MigrationSelection,
        *,
        actor: str,
        dry_run: bool,
    ) -> list[BulkMigrationItem]:
        """Every flow of the tenant ``selection`` picks (up to its limit, newest first), moved to its target version
        each in a transaction and an event of its own (``dry_run``: only what would change). A flow the mapping
        cannot move is listed as refused, with why; the others are not held up by it."""
        self._flow_types.get(selection.flow_type, selection.to_version)
        items: list[BulkMigrationItem] = []
        for summary in await self._selected(tenant, selection):
            try:
                if dry_run:
                    plan = await self.plan_flow_migration(tenant, summary.flow_id, selection.to_version)
                    items.append(BulkMigrationItem(summary.flow_id, "would_migrate", summary.version, plan))
                    continue
                flow = await self.migrate_flow(tenant, summary.flow_id, selection.to_version, actor=actor)
                plan = MigrationPlan.from_data(flow.pending_events[-1].data["migration"], flow.phase_names)
                items.append(BulkMigrationItem(flow.flow_id, "migrated", flow.version, plan))
            except (MigrationRefused, IllegalTransition, ConcurrentModification) as refusal:
                items.append(BulkMigrationItem(summary.flow_id, "refused", summary.version, None, _why(refusal)))
        return items

    async def _selected(self, tenant: Tenant, selection: MigrationSelection) -> list[FlowSummary]:
        flow_filter = FlowFilter(flow_type=selection.flow_type, statuses=selection.statuses)
        chosen: list[FlowSummary] = []
        cursor: str | None = None
        async with self._uow as uow:
            await uow.scope(tenant)
            while len(chosen) < selection.limit:
                page = await uow.flows.list(tenant, flow_filter, 200, cursor)
                chosen += [f for f in page.items if f.contract.version == selection.from_version]
                cursor = page.next_cursor
                if cursor is None:
                    break
        return chosen[: selection.limit]

    def _migration_target(self, flow: Flow, to_version: int) -> tuple[ExecutionContract, PhaseMapping | None]:
        """The contract ``to_version`` of the flow's type gives it (with the engine the flow was created with), and
        the mapping that version declares from the flow's."""
        definition = self._flow_types.get(flow.flow_type, to_version)
        return definition.contract(bridged=flow.contract.bridged), definition.migrations.get(flow.contract.version)

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
