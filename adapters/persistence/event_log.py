"""FlowEventLog on PostgreSQL: the events of a flow, keyed by (tenant, flow, version)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, insert, select

from adapters.persistence.statements import Executor, Statement, by_key, key_params
from adapters.persistence.tables import flow_events
from domain.events import FlowEvent, Tenant

_APPEND = Statement(insert(flow_events))
_LIST = Statement(
    select(flow_events)
    .where(by_key(flow_events), flow_events.c.version > bindparam("after"))
    .order_by(flow_events.c.version)
    .limit(bindparam("page"))
)


class PgFlowEventLog:
    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    async def append(self, events: list[FlowEvent]) -> None:
        await self._executor.execute_many(_APPEND, [event_row(e) for e in events])

    async def list(self, tenant: Tenant, flow_id: UUID, after_version: int, limit: int) -> list[FlowEvent]:
        rows = await self._executor.fetch(_LIST, {**key_params(tenant, flow_id), "after": after_version, "page": limit})
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


def event_row(e: FlowEvent) -> dict[str, Any]:
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
