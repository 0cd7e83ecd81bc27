"""The orchestrator's queries: reads of a tenant's flows, each in one read-only use of the unit of work.

``flow_type`` restricts a query to flows of one type: a flow of another type is not found.
"""

from __future__ import annotations

from uuid import UUID

from application.flow_type_versions import FlowTypeVersions, flow_type_versions, refuse_unregistered_versions
from application.orchestration import OrchestratorPart, visible
from application.views import FlowStatusView
from domain.background import TenantQueue
from domain.events import FlowEvent, Tenant
from domain.flow import Flow, FlowSummary
from domain.ports import Attempt, FlowFilter, Page, VersionUsage
from domain.status_sync import master_status_for


class FlowQueries(OrchestratorPart):
    async def get_flow(self, tenant: Tenant, flow_id: UUID, *, flow_type: str | None = None) -> Flow:
        async with self._uow as uow:
            await uow.scope(tenant)
            return visible(await uow.flows.get(tenant, flow_id), flow_type)

    async def get_flow_status(self, tenant: Tenant, flow_id: UUID, *, flow_type: str | None = None) -> FlowStatusView:
        """The master flow beside its child record (and the mirrors kept with it)."""
        async with self._uow as uow:
            await uow.scope(tenant)
            flow = visible(await uow.flows.get(tenant, flow_id), flow_type)
            child = await self.adapter_of(flow).load_child(tenant, flow_id)
            projected = master_status_for(child.status) if child else None
            lease = await uow.phase_runs.lease_of(tenant, flow_id) if flow.run is not None else None
            return FlowStatusView(flow=flow, child=child, child_projected_status=projected, lease=lease)

    async def list_flows(
        self, tenant: Tenant, flow_filter: FlowFilter, *, limit: int = 50, cursor: str | None = None
    ) -> Page[FlowSummary]:
        if flow_filter.flow_type is not None:
            self._flow_types.get(flow_filter.flow_type)
        async with self._uow as uow:
            await uow.scope(tenant)
            return await uow.flows.list(tenant, flow_filter, limit, cursor)

    async def get_flow_events(
        self,
        tenant: Tenant,
        flow_id: UUID,
        *,
        after_version: int = 0,
        limit: int = 100,
        flow_type: str | None = None,
    ) -> list[FlowEvent]:
        async with self._uow as uow:
            await uow.scope(tenant)
            visible(await uow.flows.get(tenant, flow_id), flow_type)
            return await uow.events.list(tenant, flow_id, after_version, limit)

    async def version_usage(self, tenant: Tenant | None) -> list[VersionUsage]:
        """How many flows use each version of each flow type, per status: the tenant's, or (None: on the schema
        owner's unit of work) every tenant's."""
        async with self._uow as uow:
            if tenant is not None:
                await uow.scope(tenant)
            return await uow.flows.version_usage(tenant)

    async def flow_type_versions(self, tenant: Tenant) -> list[FlowTypeVersions]:
        """Every registered flow type's versions, each with how many of the tenant's flows use it."""
        return flow_type_versions(self._flow_types, await self.version_usage(tenant))

    def flow_type_versions_unused(self) -> list[FlowTypeVersions]:
        """Every registered flow type's versions, without counting flows (for a caller with no tenant)."""
        return flow_type_versions(self._flow_types, [])

    async def refuse_unregistered_versions(self) -> None:
        """Start-up's check (on the schema owner's unit of work): no stored flow uses a version the registry lacks
        (``FlowTypeRegistrationError`` naming them, how many and in which status)."""
        refuse_unregistered_versions(self._flow_types, await self.version_usage(None))

    async def get_phase_attempts(
        self, tenant: Tenant, flow_id: UUID, *, limit: int = 100, flow_type: str | None = None
    ) -> list[Attempt]:
        """The flow's attempts of phases, newest first (discarded completions included)."""
        async with self._uow as uow:
            await uow.scope(tenant)
            visible(await uow.flows.get(tenant, flow_id), flow_type)
            return await uow.phase_runs.attempts(tenant, flow_id, limit)

    async def get_queue(self, tenant: Tenant, *, limit: int = 100) -> TenantQueue:
        """The tenant's flows waiting for a worker and its phases running (with their attempts and leases)."""
        async with self._uow as uow:
            await uow.scope(tenant)
            return await uow.phase_runs.queue(tenant, limit)
