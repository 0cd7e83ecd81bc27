"""FlowRepository on PostgreSQL. Uses the unit of work's session only; never commits."""

from __future__ import annotations

from dataclasses import fields
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, bindparam, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.cursors import decode_cursor, encode_cursor
from adapters.persistence.driver import DriverStatement, execute, fetch_one
from adapters.persistence.statements import by_key, key_params
from adapters.persistence.tables import flows
from domain.errors import FlowNotFound, VersionConflict
from domain.events import Tenant
from domain.flow import Flow, FlowSummary, Phase
from domain.lifecycle import FlowStatus, PhaseState
from domain.ports import FlowFilter, Page


def tenant_clause(table: Any, tenant: Tenant) -> ColumnElement[bool]:
    return and_(
        table.c.client_account_id == tenant.client_account_id,
        table.c.engagement_id == tenant.engagement_id,
    )


# Built and compiled once, run by the driver (adapters/persistence/driver.py): a request binds parameters only.
_BY_KEY = select(flows).where(by_key(flows))
_GET = DriverStatement(_BY_KEY)
_SUMMARY_COLUMNS = [column for column in flows.c if column.name not in ("configuration", "phase_results")]
"""A list reads every column but the two documents a summary leaves out."""
_GET_FOR_UPDATE = DriverStatement(_BY_KEY.with_for_update())
_ADD = DriverStatement(insert(flows))
_SAVE = DriverStatement(
    update(flows)
    .where(by_key(flows), flows.c.version == bindparam("loaded_version"))
    .values(
        {
            c.name: bindparam(f"new_{c.name}")
            for c in flows.c
            if c.name not in ("client_account_id", "engagement_id", "flow_id")
        }
    )
)


class SqlAlchemyFlowRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def session(self) -> AsyncSession:
        return self._session

    async def get(self, tenant: Tenant, flow_id: UUID) -> Flow:
        return await self._load(tenant, flow_id, for_update=False)

    async def get_for_update(self, tenant: Tenant, flow_id: UUID) -> Flow:
        return await self._load(tenant, flow_id, for_update=True)

    async def add(self, flow: Flow) -> None:
        await execute(self._session, _ADD, _row_of(flow))

    async def save(self, flow: Flow) -> None:
        loaded_version = flow.version - len(flow.pending_events)
        values = {f"new_{k}": v for k, v in _row_of(flow).items()}
        written = await execute(
            self._session, _SAVE, {**values, **key_params(flow.tenant, flow.flow_id), "loaded_version": loaded_version}
        )
        if written != 1:
            current = (await self.get(flow.tenant, flow.flow_id)).version
            raise VersionConflict(flow.flow_id, loaded_version, current)

    async def list(self, tenant: Tenant, flow_filter: FlowFilter, limit: int, cursor: str | None) -> Page[FlowSummary]:
        query = select(*_SUMMARY_COLUMNS).where(tenant_clause(flows, tenant))
        if flow_filter.flow_type is not None:
            query = query.where(flows.c.flow_type == flow_filter.flow_type)
        if flow_filter.statuses:
            query = query.where(flows.c.status.in_([str(s) for s in flow_filter.statuses]))
        elif not flow_filter.include_deleted:
            query = query.where(flows.c.status != FlowStatus.DELETED)
        if cursor is not None:
            created_at, flow_id = decode_cursor(cursor)
            query = query.where(tuple_(flows.c.created_at, flows.c.flow_id) < tuple_(created_at, flow_id))
        query = query.order_by(flows.c.created_at.desc(), flows.c.flow_id.desc()).limit(limit + 1)
        rows = (await self._session.execute(query)).mappings().all()
        items = [summary_of(row) for row in rows[:limit]]
        next_cursor = encode_cursor(items[-1].created_at, items[-1].flow_id) if len(rows) > limit else None
        return Page(items=items, next_cursor=next_cursor)

    async def _load(self, tenant: Tenant, flow_id: UUID, *, for_update: bool) -> Flow:
        row = await fetch_one(self._session, _GET_FOR_UPDATE if for_update else _GET, key_params(tenant, flow_id))
        if row is None:
            raise FlowNotFound(flow_id)
        return flow_of(row)


def _row_of(flow: Flow) -> dict[str, Any]:
    return {
        "client_account_id": flow.tenant.client_account_id,
        "engagement_id": flow.tenant.engagement_id,
        "flow_id": flow.flow_id,
        "flow_type": flow.flow_type,
        "name": flow.name,
        "status": str(flow.status),
        "current_phase": flow.current_phase,
        "phases": [{"name": p.name, "state": str(p.state)} for p in flow.phases],
        "configuration": flow.configuration,
        "phase_results": flow.phase_results,
        "error": flow.error,
        "created_at": flow.created_at,
        "updated_at": flow.updated_at,
        "version": flow.version,
        "auto_run": flow.auto_run,
    }


def summary_of(row: Any) -> FlowSummary:
    return FlowSummary(
        flow_id=row["flow_id"],
        tenant=Tenant(row["client_account_id"], row["engagement_id"]),
        flow_type=row["flow_type"],
        name=row["name"],
        status=FlowStatus(row["status"]),
        current_phase=row["current_phase"],
        phases=tuple(Phase(p["name"], PhaseState(p["state"])) for p in row["phases"]),
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        auto_run=row["auto_run"],
    )


def flow_of(row: Any) -> Flow:
    """The whole flow: its summary's fields, and the two documents a summary leaves out."""
    summary = summary_of(row)
    shared = {f.name: getattr(summary, f.name) for f in fields(FlowSummary)}
    return Flow(
        **{**shared, "phases": list(summary.phases)},
        configuration=row["configuration"],
        phase_results=row["phase_results"],
    )
