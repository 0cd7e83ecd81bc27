"""Moving flows to another version of their type (ADR 0018): one flow, under the mapping the target version declares,
in one transaction and one event; or a tenant's flows of one version in bulk, each in a transaction of its own, with a
dry run that only lists what would change."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.orchestration import OrchestratorPart, visible
from domain.contract import ExecutionContract, MigrationPlan, PhaseMapping
from domain.errors import ConcurrentModification, DomainError, IllegalTransition, MigrationRefused
from domain.events import Tenant
from domain.flow import Flow, FlowSummary
from domain.idempotency import IdempotentRequest
from domain.lifecycle import FlowStatus, Operation
from domain.ports import FlowFilter


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


class FlowMigrations(OrchestratorPart):
    """Migrating flows to another version of their type: :meth:`migrate_flow`, its dry run
    :meth:`plan_flow_migration`, and :meth:`migrate_flows` in bulk."""

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
        flow_filter = FlowFilter(
            flow_type=selection.flow_type, statuses=selection.statuses, version=selection.from_version
        )
        async with self._uow as uow:
            await uow.scope(tenant)
            return (await uow.flows.list(tenant, flow_filter, selection.limit, None)).items

    def _migration_target(self, flow: Flow, to_version: int) -> tuple[ExecutionContract, PhaseMapping | None]:
        """The contract ``to_version`` of the flow's type gives it (with the engine the flow was created with), and
        the mapping that version declares from the flow's."""
        definition = self._flow_types.get(flow.flow_type, to_version)
        return definition.contract(bridged=flow.contract.bridged), definition.migrations.get(flow.contract.version)
