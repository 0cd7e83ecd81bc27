"""crewai_flow_states: each flow's CrewAI Flow state (the BridgeStates port), through the unit of work.

There is no second store: the state is written in the same transaction as the master row, the child row and the
event, and read back before every kickoff.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, Integer, String, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import JSONB

from adapters.persistence.statements import Executor, Statement, by_key, key_params, upsert_by_key
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

_LOAD = Statement(select(crewai_flow_states.c.state).where(by_key(crewai_flow_states)))
_SAVE = upsert_by_key(crewai_flow_states)
_FOLLOW = Statement(
    update(crewai_flow_states)
    .where(by_key(crewai_flow_states))
    .values(
        status=bindparam("status"),
        master_version=bindparam("master_version"),
        updated_at=bindparam("updated_at"),
        state=crewai_flow_states.c.state.op("||")(bindparam("mirror", type_=JSONB)),
    )
)


class PgBridgeStates:
    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    async def load(self, tenant: Tenant, flow_id: UUID) -> dict[str, Any] | None:
        row = await self._executor.fetchrow(_LOAD, key_params(tenant, flow_id))
        return None if row is None else row["state"]

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
        await self._executor.execute(_SAVE, values)

    async def follow(self, flow: Flow) -> bool:
        """Without reading it: the stored state's status and version (columns and document) become the master's."""
        mirror = {"status": str(flow.status), "master_version": flow.version}
        params = {**key_params(flow.tenant, flow.flow_id), **mirror, "mirror": mirror, "updated_at": flow.updated_at}
        return await self._executor.execute(_FOLLOW, params) == 1
