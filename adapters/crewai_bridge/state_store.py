"""crewai_flow_states: each flow's CrewAI Flow state, stored through the request's unit of work.

There is no second store: the state is written in the same transaction as the master row,
the child row and the event, and read back before every kickoff.
"""

from __future__ import annotations

import functools
from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, Integer, String, Table, and_, bindparam, select, update
from sqlalchemy.dialects.postgresql import JSONB

from adapters.flow_types.child_table import ChildTableFlowType, HasSession
from adapters.persistence.driver import DriverStatement, execute, fetch_one
from adapters.persistence.statements import by_key, key_params, upsert_by_key
from adapters.persistence.tables import master_flow_reference, metadata, tenant_columns
from domain.events import Tenant
from domain.flow import Flow
from domain.ports import ChildRecord

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


_LOAD = DriverStatement(select(crewai_flow_states.c.state).where(by_key(crewai_flow_states)))
_FOLLOW = DriverStatement(
    update(crewai_flow_states)
    .where(by_key(crewai_flow_states))
    .values(
        status=bindparam("status"),
        master_version=bindparam("master_version"),
        updated_at=bindparam("updated_at"),
        state=crewai_flow_states.c.state.op("||")(bindparam("mirror", type_=JSONB)),
    )
)

STATE = "crewai_state"  # the stored state's label beside a child row's columns


@functools.cache
def child_with_state(table: Table) -> DriverStatement:
    """One flow's row of the child ``table`` and, beside it, its stored CrewAI state (NULL when there is none)."""
    states = crewai_flow_states
    same_flow = and_(*(states.c[k] == table.c[k] for k in ("client_account_id", "engagement_id", "flow_id")))
    return DriverStatement(
        select(table, states.c.state.label(STATE)).select_from(table.outerjoin(states, same_flow)).where(by_key(table))
    )


class CrewAIStateStore:
    def __init__(self, uow: HasSession) -> None:
        self._uow = uow

    async def load(self, tenant: Tenant, flow_id: UUID) -> dict[str, Any] | None:
        row = await fetch_one(self._uow.session, _LOAD, key_params(tenant, flow_id))
        return None if row is None else row["state"]

    async def load_with_child(
        self, service: ChildTableFlowType, tenant: Tenant, flow_id: UUID
    ) -> tuple[ChildRecord | None, dict[str, Any] | None]:
        """The flow's child record in ``service``'s table and its stored state, in one statement."""
        row = await fetch_one(self._uow.session, child_with_state(service.table), key_params(tenant, flow_id))
        return (None, None) if row is None else (service.child_of(row), row[STATE])

    async def save(self, flow: Flow, state: dict[str, Any]) -> None:
        """Write the whole state (after a kickoff, or a new flow's first)."""
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
        await execute(self._uow.session, upsert_by_key(crewai_flow_states), values)

    async def follow(self, flow: Flow) -> bool:
        """Move the stored state to the master's status and version without reading it; False when there is none."""
        mirror = {"status": str(flow.status), "master_version": flow.version}
        written = await execute(
            self._uow.session,
            _FOLLOW,
            {**key_params(flow.tenant, flow.flow_id), **mirror, "mirror": mirror, "updated_at": flow.updated_at},
        )
        return written == 1
