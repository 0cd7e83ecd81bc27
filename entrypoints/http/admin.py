"""The consistency audit's routes.

``GET /api/v1/admin/consistency``: the platform operator's call audits every tenant and stores the run; a tenant
admin's audits its own tenant only (every table read restricted to it), stored nowhere. ``GET .../latest``, the
latest stored (system-wide) run, is the platform operator's alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, QueryParameter
from msgspec import Struct, structs

from application.consistency import MAX_FINDINGS
from application.migrations import MigrationSelection
from domain.auth import Role
from domain.ports import AuditReport, AuditRun
from entrypoints.http.auth import PLATFORM_TOO, ROLE, principal_of
from entrypoints.http.dependencies import provide_actor, provide_tenant
from entrypoints.http.flows import parse_statuses
from entrypoints.http.openapi import PLATFORM_SECURITY, TENANT_SECURITY, protected_responses
from entrypoints.http.problems import problem
from entrypoints.http.schemas import BulkMigrateRequest, BulkMigrationOut


class AuditFindingOut(Struct):
    flow_id: UUID
    client_account_id: UUID
    engagement_id: UUID
    flow_type: str
    status: str
    version: int
    problems: list[str]


SYSTEM, TENANT = "system", "tenant"


class AuditReportOut(Struct):
    scope: str
    """``system``: every tenant's flows; ``tenant``: the caller's tenant's only."""
    consistent: bool
    flows_checked: int
    inconsistent: int
    seconds: float
    findings: list[AuditFindingOut]

    @classmethod
    def of(cls, report: AuditReport, scope: str = SYSTEM) -> AuditReportOut:
        return cls(
            scope=scope,
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
    summary="Check every flow's master, child, CrewAI state and event count in one query (a tenant admin: its own)",
    tags=["admin"],
    opt={ROLE: Role.ADMIN, PLATFORM_TOO: True},
    security=TENANT_SECURITY,
    responses=protected_responses(400, 503),
)
async def audit_consistency(
    request: Request[Any, Any, Any],
    state: State,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_FINDINGS, description="Most findings to list.")] = 100,
) -> AuditReportOut:
    monitor = state.container.consistency_monitor()
    if principal_of(request).is_platform:
        return AuditReportOut.of((await monitor.audit_now("api", limit)).report, SYSTEM)
    return AuditReportOut.of(await monitor.audit_tenant(provide_tenant(request), limit), TENANT)


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
    summary="The latest stored system-wide consistency audit (periodic, API or CLI), as every replica sees it",
    tags=["admin"],
    opt={ROLE: Role.PLATFORM},
    security=PLATFORM_SECURITY,
    responses=protected_responses(404),
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


@post(
    "/api/v1/admin/flows/migrate",
    operation_id="migrateFlows",
    summary="Move the tenant's flows of one version of a type to another (a dry run lists what would change)",
    description=(
        "Every flow of `flow_type` at `from_version` (in `statuses`, default any but deleted; at most `limit`, "
        "newest first) is moved to `to_version`, each in a transaction and an event of its own; a flow the "
        "mapping cannot move is listed as `refused` with why, and does not hold the others up. `dry_run: true` "
        "lists the same without changing anything. A tenant admin's route."
    ),
    tags=["admin"],
    opt={ROLE: Role.ADMIN},
    status_code=200,
    security=TENANT_SECURITY,
    responses=protected_responses(400, 413, 415, 422, 503),
)
async def migrate_flows(
    request: Request[Any, Any, Any], state: State, data: JSONBody[BulkMigrateRequest]
) -> BulkMigrationOut:
    selection = MigrationSelection(
        data.flow_type,
        data.from_version,
        data.to_version,
        statuses=parse_statuses(data.statuses),
        limit=data.limit,
    )
    items = await state.container.orchestrator().migrate_flows(
        provide_tenant(request), selection, actor=provide_actor(request), dry_run=data.dry_run
    )
    return BulkMigrationOut.of(data.dry_run, items)
