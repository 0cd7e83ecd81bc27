"""crewai_flow_states: each flow's CrewAI Flow state, stored through the request's unit of work.

There is no second store: the state is written in the same transaction as the master row,
the child row and the event, and read back before every kickoff.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, Integer, String, Table, select
from sqlalchemy.dialects.postgresql import JSONB, insert

from adapters.flow_types.child_table import HasSession
from adapters.persistence.flow_repository import tenant_clause
from adapters.persistence.tables import master_flow_reference, metadata, tenant_columns
from domain.events import Tenant
from domain.flow import Flow

crewai_flow_states = Table(
    "crewai_flow_states",
    metadata,
    *tenant_columns(),
    Column("state_id", String(64), nullable=False),
    Column("flow_type", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("master_version", Integer, nullable=False),
    Column("state", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    master_flow_reference("crewai_flow_states"),
)


class CrewAIStateStore:
    def __init__(self, uow: HasSession) -> None:
        self._uow = uow

    async def load(self, tenant: Tenant, flow_id: UUID) -> dict[str, Any] | None:
        row = (
            await self._uow.session.execute(
                select(crewai_flow_states.c.state).where(
                    tenant_clause(crewai_flow_states, tenant), crewai_flow_states.c.flow_id == flow_id
                )
            )
        ).scalar_one_or_none()
        return row

    async def save(self, flow: Flow, state: dict[str, Any]) -> None:
        values = {
            "client_account_id": flow.tenant.client_account_id,
            "engagement_id": flow.tenant.engagement_id,
            "flow_id": flow.flow_id,
            "state_id": state["id"],
            "flow_type": flow.flow_type,
            "status": state["status"],
            "master_version": state["master_version"],
            "state": state,
            "updated_at": flow.updated_at,
        }
        statement = insert(crewai_flow_states).values(**values)
        await self._uow.session.execute(
            statement.on_conflict_do_update(
                index_elements=["client_account_id", "engagement_id", "flow_id"],
                set_={
                    k: statement.excluded[k] for k in ("state_id", "status", "master_version", "state", "updated_at")
                },
            )
        )
