"""What every flow type's child table shares, and the adapter base that keeps it in sync.

A child table holds the type's own view of a flow: its status (``child_status_for`` the
master status), the master version it reflects, a progress figure and columns of its
own. It is written through the request's unit of work, in the request's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import CheckConstraint, Column, DateTime, Integer, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.driver import execute, fetch_one
from adapters.persistence.statements import key_params, select_by_key, upsert_by_key
from adapters.persistence.tables import master_flow_reference, metadata, tenant_columns
from domain.events import Tenant
from domain.flow import Flow
from domain.lifecycle import FlowStatus
from domain.ports import ChildRecord
from domain.status_sync import CHILD_STATUSES, child_status_for, master_status_for

_COMMON = (
    "client_account_id",
    "engagement_id",
    "flow_id",
    "status",
    "master_version",
    "progress_percent",
    "updated_at",
)


CHILD_TABLES: dict[str, Table] = {}
"""Every child table defined so far, by name (the consistency auditor checks them all)."""


def child_table(name: str, *columns: Column) -> Table:
    statuses = ", ".join(f"'{s}'" for s in CHILD_STATUSES)
    table = CHILD_TABLES[name] = Table(
        name,
        metadata,
        *tenant_columns(),
        Column("status", String(32), nullable=False),
        Column("master_version", Integer, nullable=False),
        Column("progress_percent", Integer, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        *columns,
        CheckConstraint(f"status IN ({statuses})", name="status"),
        master_flow_reference(name),
    )
    return table


class HasSession(Protocol):
    @property
    def session(self) -> AsyncSession: ...


class ChildTableFlowType:
    """Base of the flow types whose child record lives in one table of their own.

    Subclasses set ``name``, ``phases``, ``table`` and implement ``child_columns`` (the
    type's own columns, computed from the master flow) and the phase methods.
    """

    name: str
    phases: tuple[str, ...]
    table: Table

    def __init__(self, uow: HasSession) -> None:
        self._uow = uow

    @property
    def unit_of_work(self) -> HasSession:
        return self._uow

    def child_columns(self, flow: Flow) -> dict[str, Any]:
        return {}

    async def save_child(self, flow: Flow) -> None:
        values = {
            "client_account_id": flow.tenant.client_account_id,
            "engagement_id": flow.tenant.engagement_id,
            "flow_id": flow.flow_id,
            "status": child_status_for(flow.status),
            "master_version": flow.version,
            "progress_percent": flow.progress_percent,
            "updated_at": flow.updated_at,
            **self.child_columns(flow),
        }
        await execute(self._uow.session, upsert_by_key(self.table), values)

    async def load_child(self, tenant: Tenant, flow_id: UUID) -> ChildRecord | None:
        row = await fetch_one(self._uow.session, select_by_key(self.table), key_params(tenant, flow_id))
        return None if row is None else self.child_of(row)

    def child_of(self, row: Mapping[str, Any]) -> ChildRecord:
        """The child record in ``row``, a row of ``table`` (other columns in it, as from a join, are ignored)."""
        return ChildRecord(
            flow_id=row["flow_id"],
            status=row["status"],
            master_version=row["master_version"],
            progress_percent=row["progress_percent"],
            details={c.name: row[c.name] for c in self.table.c if c.name not in _COMMON},
        )

    def project_status(self, child: ChildRecord) -> FlowStatus:
        return master_status_for(child.status)
