"""FlowEventLog on PostgreSQL: the events of a flow, keyed by (tenant, flow, version)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.driver import DriverStatement, execute_many
from adapters.persistence.flow_repository import tenant_clause
from adapters.persistence.tables import flow_events
from domain.events import FlowEvent, Tenant

_APPEND = DriverStatement(insert(flow_events))


class SqlAlchemyFlowEventLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, events: list[FlowEvent]) -> None:
        if not events:
            return
        await execute_many(self._session, _APPEND, [event_row(e) for e in events])

    async def list(self, tenant: Tenant, flow_id: UUID, after_version: int, limit: int) -> list[FlowEvent]:
        rows = (
            await self._session.execute(
                select(flow_events)
                .where(
                    tenant_clause(flow_events, tenant),
                    flow_events.c.flow_id == flow_id,
                    flow_events.c.version > after_version,
                )
                .order_by(flow_events.c.version)
                .limit(limit)
            )
        ).mappings()
        return [
            FlowEvent(
                flow_id=row["flow_id"],
                tenant=Tenant(row["client_account_id"], row["engagement_id"]),
                version=row["version"],
                operation=row["operation"],
                actor=row["actor"],
                from_status=row["from_status"],
                to_status=row["to_status"],
                occurred_at=row["occurred_at"],
                data=row["data"],
            )
            for row in rows
        ]


def event_row(e: FlowEvent) -> dict:
    return {
        "client_account_id": e.tenant.client_account_id,
        "engagement_id": e.tenant.engagement_id,
        "flow_id": e.flow_id,
        "version": e.version,
        "operation": str(e.operation),
        "actor": e.actor,
        "from_status": None if e.from_status is None else str(e.from_status),
        "to_status": str(e.to_status),
        "occurred_at": e.occurred_at,
        "data": e.data,
    }
