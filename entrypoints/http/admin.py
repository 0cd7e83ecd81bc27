"""Operator routes that look across tenants."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.params import QueryParameter
from msgspec import Struct, structs

from domain.auth import Role
from domain.ports import AuditReport, AuditRun
from entrypoints.http.auth import ROLE
from entrypoints.http.openapi import problem_responses
from entrypoints.http.problems import problem


class AuditFindingOut(Struct):
    flow_id: UUID
    client_account_id: UUID
    engagement_id: UUID
    flow_type: str
    status: str
    version: int
    problems: list[str]


class AuditReportOut(Struct):
    consistent: bool
    flows_checked: int
    inconsistent: int
    seconds: float
    findings: list[AuditFindingOut]

    @classmethod
    def of(cls, report: AuditReport) -> AuditReportOut:
        return cls(
            consistent=report.inconsistent == 0,
            flows_checked=report.flows_checked,
            inconsistent=report.inconsistent,
            seconds=report.seconds,
            findings=[
                AuditFindingOut(
                    f.flow_id,
                    f.tenant.client_account_id,
                    f.tenant.engagement_id,
                    f.flow_type,
                    f.status,
                    f.version,
                    list(f.problems),
                )
                for f in report.findings
            ],
        )


@get(
    "/api/v1/admin/consistency",
    operation_id="auditConsistency",
    summary="Check every flow's master, child, CrewAI state and event count in one query",
    tags=["admin"],
    opt={ROLE: Role.ADMIN},
    responses=problem_responses(400, 503),
)
async def audit_consistency(
    state: State, limit: Annotated[int, QueryParameter(ge=0, le=10_000, description="Most findings to list.")] = 100
) -> AuditReportOut:
    run = await state.container.consistency_monitor().audit_now("api", limit)
    return AuditReportOut.of(run.report)


class AuditRunOut(AuditReportOut):
    """A stored audit: its report, and which run it was."""

    run_id: int
    trigger: str
    started_at: datetime
    finished_at: datetime

    @classmethod
    def of_run(cls, run: AuditRun) -> AuditRunOut:
        return cls(
            **structs.asdict(AuditReportOut.of(run.report)),
            run_id=run.run_id or 0,
            trigger=run.trigger,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )


@get(
    "/api/v1/admin/consistency/latest",
    operation_id="latestConsistencyAudit",
    summary="The latest stored consistency audit (periodic, API or CLI), as every replica sees it",
    tags=["admin"],
    opt={ROLE: Role.ADMIN},
)
async def latest_consistency_audit(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    run = await state.container.consistency_monitor().latest()
    if run is None:
        return problem(
            request,
            404,
            "no-audit-yet",
            "No audit yet",
            "no consistency audit has run yet; GET /api/v1/admin/consistency runs one now",
        )
    return Response(AuditRunOut.of_run(run))
