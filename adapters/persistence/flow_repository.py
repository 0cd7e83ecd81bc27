"""FlowRepository on PostgreSQL. Runs its statements on the unit of work's transaction; never commits."""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, String, any_, bindparam, cast, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY

from adapters.persistence.cursors import decode_cursor, encode_cursor
from adapters.persistence.statements import KEY_COLUMNS, Executor, Statement, by_key, key_params
from adapters.persistence.tables import flows
from domain.background import due_at
from domain.contract import ExecutionContract
from domain.errors import FlowNotFound, VersionConflict
from domain.events import Tenant
from domain.flow import Flow, FlowSummary, Phase, PhaseRun
from domain.lifecycle import FlowStatus, PhaseState
from domain.ports import FlowFilter, Page, VersionUsage

_BY_KEY = select(flows).where(by_key(flows))
_GET = Statement(_BY_KEY)
_GET_FOR_UPDATE = Statement(_BY_KEY.with_for_update())
_ADD = Statement(insert(flows))
_SAVE = Statement(
    update(flows)
    .where(by_key(flows), flows.c.version == bindparam("loaded_version"))
    .values({c.name: bindparam(f"new_{c.name}") for c in flows.c if c.name not in KEY_COLUMNS})
)
_VERSION = cast(flows.c.contract["version"].astext, Integer)
_USAGE_COLUMNS = (flows.c.flow_type, _VERSION.label("version"), flows.c.status, func.count().label("flows"))
_USAGE_ORDER = (flows.c.flow_type, _VERSION, flows.c.status)
_USAGE = Statement(select(*_USAGE_COLUMNS).group_by(*_USAGE_ORDER).order_by(*_USAGE_ORDER))
_TENANT_USAGE = Statement(
    select(*_USAGE_COLUMNS)
    .where(flows.c.client_account_id == bindparam("c"), flows.c.engagement_id == bindparam("e"))
    .group_by(*_USAGE_ORDER)
    .order_by(*_USAGE_ORDER)
)
_SUMMARY_COLUMNS = [
    column for column in flows.c if column.name not in ("configuration", "phase_results", "trace_context")
]
"""A list reads every column but what a summary leaves out: the two documents and the trace."""


@dataclass(frozen=True)
class _ListShape:
    """Which conditions a list's statement has (``statuses``: "any", "listed" or "not_deleted"): each shape of
    filter is compiled once."""

    by_type: bool
    statuses: str
    after_cursor: bool
    search: bool = False
    created_after: bool = False
    created_before: bool = False
    by_version: bool = False


def _escaped_like(text: str) -> str:
    """``text`` as a literal in a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@functools.cache
def _list_statement(shape: _ListShape) -> Statement:
    """One page of a tenant's flows, newest first, for one shape of filter."""
    query = select(*_SUMMARY_COLUMNS).where(
        flows.c.client_account_id == bindparam("c"), flows.c.engagement_id == bindparam("e")
    )
    if shape.by_type:
        query = query.where(flows.c.flow_type == bindparam("flow_type"))
    if shape.by_version:
        query = query.where(bindparam("version", type_=Integer) == _VERSION)
    if shape.statuses == "listed":
        query = query.where(flows.c.status == any_(bindparam("statuses", type_=ARRAY(String))))
    elif shape.statuses == "not_deleted":
        query = query.where(flows.c.status != str(FlowStatus.DELETED))
    if shape.search:
        query = query.where(
            or_(
                flows.c.name.ilike(bindparam("name_pattern"), escape="\\"),
                cast(flows.c.flow_id, String).like(bindparam("id_prefix"), escape="\\"),
            )
        )
    if shape.created_after:
        query = query.where(flows.c.created_at >= bindparam("created_after", type_=flows.c.created_at.type))
    if shape.created_before:
        query = query.where(flows.c.created_at < bindparam("created_before", type_=flows.c.created_at.type))
    if shape.after_cursor:
        query = query.where(
            tuple_(flows.c.created_at, flows.c.flow_id)
            < tuple_(
                bindparam("after_created", type_=flows.c.created_at.type),
                bindparam("after_id", type_=flows.c.flow_id.type),
            )
        )
    query = query.order_by(flows.c.created_at.desc(), flows.c.flow_id.desc()).limit(bindparam("page"))
    return Statement(query)


class PgFlowRepository:
    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    async def get(self, tenant: Tenant, flow_id: UUID) -> Flow:
        return await self._load(_GET, tenant, flow_id)

    async def get_for_update(self, tenant: Tenant, flow_id: UUID) -> Flow:
        return await self._load(_GET_FOR_UPDATE, tenant, flow_id)

    async def add(self, flow: Flow) -> None:
        await self._executor.execute(_ADD, row_of(flow))
        flow.loaded_version = flow.version

    async def save(self, flow: Flow) -> None:
        values = {f"new_{k}": v for k, v in row_of(flow).items()}
        params = {**values, **key_params(flow.tenant, flow.flow_id), "loaded_version": flow.loaded_version}
        if await self._executor.execute(_SAVE, params) != 1:
            current = (await self.get(flow.tenant, flow.flow_id)).version
            raise VersionConflict(flow.flow_id, flow.loaded_version, current)
        flow.loaded_version = flow.version

    async def list(self, tenant: Tenant, flow_filter: FlowFilter, limit: int, cursor: str | None) -> Page[FlowSummary]:
        params: dict[str, Any] = {"c": tenant.client_account_id, "e": tenant.engagement_id, "page": limit + 1}
        if flow_filter.flow_type is not None:
            params["flow_type"] = flow_filter.flow_type
        if flow_filter.statuses:
            params["statuses"] = [str(s) for s in flow_filter.statuses]
        if flow_filter.version is not None:
            params["version"] = flow_filter.version
        if cursor is not None:
            params["after_created"], params["after_id"] = decode_cursor(cursor)
        if flow_filter.search:
            params["name_pattern"] = f"%{_escaped_like(flow_filter.search)}%"
            params["id_prefix"] = f"{_escaped_like(flow_filter.search.lower())}%"
        if flow_filter.created_after is not None:
            params["created_after"] = flow_filter.created_after
        if flow_filter.created_before is not None:
            params["created_before"] = flow_filter.created_before
        statuses = "listed" if flow_filter.statuses else "any" if flow_filter.include_deleted else "not_deleted"
        shape = _ListShape(
            by_type=flow_filter.flow_type is not None,
            statuses=statuses,
            after_cursor=cursor is not None,
            search=bool(flow_filter.search),
            created_after=flow_filter.created_after is not None,
            created_before=flow_filter.created_before is not None,
            by_version=flow_filter.version is not None,
        )
        statement = _list_statement(shape)
        rows = await self._executor.fetch(statement, params)
        items = [summary_of(row) for row in rows[:limit]]
        next_cursor = encode_cursor(items[-1].created_at, items[-1].flow_id) if len(rows) > limit else None
        return Page(items=items, next_cursor=next_cursor)

    async def version_usage(self, tenant: Tenant | None) -> list[VersionUsage]:
        if tenant is None:
            rows = await self._executor.fetch(_USAGE, {})
        else:
            rows = await self._executor.fetch(_TENANT_USAGE, {"c": tenant.client_account_id, "e": tenant.engagement_id})
        return [VersionUsage(r["flow_type"], r["version"], FlowStatus(r["status"]), r["flows"]) for r in rows]

    async def _load(self, statement: Statement, tenant: Tenant, flow_id: UUID) -> Flow:
        row = await self._executor.fetchrow(statement, key_params(tenant, flow_id))
        if row is None:
            raise FlowNotFound(flow_id)
        return flow_of(row)


_DOCUMENTS = ("configuration", "phase_results")


def row_of(flow: Flow) -> dict[str, Any]:
    """The flow's ``flows`` row: each field in the column of its name; the tenant in two columns, the phases and the
    status as stored."""
    row = {f.name: getattr(flow, f.name) for f in fields(FlowSummary) if f.name not in ("tenant", "run", "contract")}
    row.update(
        client_account_id=flow.tenant.client_account_id,
        engagement_id=flow.tenant.engagement_id,
        status=str(flow.status),
        phases=[{"name": p.name, "state": str(p.state)} for p in flow.phases],
        phase_run=None if flow.run is None else flow.run.to_data(),
        contract=flow.contract.to_data(),
        run_due_at=due_at(flow),
        trace_context=flow.trace_context or None,
        **{name: getattr(flow, name) for name in _DOCUMENTS},
    )
    return row


def _summary_fields(row: Any) -> dict[str, Any]:
    structured = ("tenant", "status", "phases", "run", "contract")
    plain = {f.name: row[f.name] for f in fields(FlowSummary) if f.name not in structured}
    return {
        **plain,
        "run": PhaseRun.from_data(row["phase_run"]),
        "contract": ExecutionContract.from_data(row["contract"]),
        "tenant": Tenant(row["client_account_id"], row["engagement_id"]),
        "status": FlowStatus(row["status"]),
        "phases": [Phase(p["name"], PhaseState(p["state"])) for p in row["phases"]],
    }


def summary_of(row: Any) -> FlowSummary:
    return FlowSummary(**_summary_fields(row))


def flow_of(row: Any) -> Flow:
    """The whole flow, as loaded: its summary's fields and the two documents a summary leaves out."""
    return Flow(
        **_summary_fields(row),
        **{name: row[name] for name in _DOCUMENTS},
        trace_context=dict(row["trace_context"] or {}),
        loaded_version=row["version"],
    )
