"""ChildRecords on PostgreSQL: every flow type's child rows, through the unit of work's transaction."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import and_, select

from adapters.persistence.bridge_states import crewai_flow_states
from adapters.persistence.child_tables import child_table_for
from adapters.persistence.statements import (
    KEY_COLUMNS,
    Executor,
    Statement,
    by_key,
    key_params,
    select_by_key,
    upsert_by_key,
)
from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import ChildTable
from domain.ports import ChildRecord
from domain.status_sync import child_status_for

BRIDGE_STATE = "mfo_bridge_state"
"""The label of the stored bridge state beside a child row's columns."""


@functools.cache
def _child_with_bridge_state(spec: ChildTable) -> Statement:
    table, states = child_table_for(spec), crewai_flow_states
    same_flow = and_(*(states.c[k] == table.c[k] for k in KEY_COLUMNS))
    return Statement(
        select(table, states.c.state.label(BRIDGE_STATE))
        .select_from(table.outerjoin(states, same_flow))
        .where(by_key(table))
    )


class PgChildRecords:
    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    async def save(self, table: ChildTable, flow: Flow) -> None:
        values = {
            "client_account_id": flow.tenant.client_account_id,
            "engagement_id": flow.tenant.engagement_id,
            "flow_id": flow.flow_id,
            "status": child_status_for(flow.status),
            "master_version": flow.version,
            "progress_percent": flow.progress_percent,
            "updated_at": flow.updated_at,
            **table.project(flow),
        }
        await self._executor.execute(upsert_by_key(child_table_for(table)), values)

    async def load(self, table: ChildTable, tenant: Tenant, flow_id: UUID) -> ChildRecord | None:
        row = await self._executor.fetchrow(select_by_key(child_table_for(table)), key_params(tenant, flow_id))
        return None if row is None else child_of(table, row)

    async def load_with_bridge_state(
        self, table: ChildTable, tenant: Tenant, flow_id: UUID
    ) -> tuple[ChildRecord | None, dict[str, Any] | None]:
        row = await self._executor.fetchrow(_child_with_bridge_state(table), key_params(tenant, flow_id))
        return (None, None) if row is None else (child_of(table, row), row[BRIDGE_STATE])


def child_of(table: ChildTable, row: Mapping[str, Any]) -> ChildRecord:
    """The child record in ``row``, a row of the child table (other columns in it, as from a join, are ignored)."""
    return ChildRecord(
        flow_id=row["flow_id"],
        status=row["status"],
        master_version=row["master_version"],
        progress_percent=row["progress_percent"],
        details={c.name: row[c.name] for c in table.columns},
    )
