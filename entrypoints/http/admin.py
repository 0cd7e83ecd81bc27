"""Operator routes that look across tenants."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import get
from litestar.datastructures import State
from litestar.params import QueryParameter
from msgspec import Struct

from domain.auth import Role
from domain.ports import AuditReport
from entrypoints.http.auth import ROLE


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
)
async def audit_consistency(
    state: State, limit: Annotated[int, QueryParameter(ge=0, le=10_000, description="Most findings to list.")] = 100
) -> AuditReportOut:
    return AuditReportOut.of(await state.container.auditor().audit(limit))
