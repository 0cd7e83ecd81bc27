"""planning_flows: wave planning's own record of a flow, beside the master row."""

from __future__ import annotations

from typing import Any

from domain.flow import Flow
from domain.flow_types import ChildColumn, ChildTable, ColumnKind


def planning_columns(flow: Flow) -> dict[str, Any]:
    results = flow.phase_results
    scope = results.get("scope_intake", {})
    return {
        "assessment_flow_id": scope.get("assessment_flow_id"),
        "application_count": len(scope["applications"]) if "applications" in scope else None,
        "wave_count": results.get("wave_assignment", {}).get("wave_count"),
    }


PLANNING_FLOWS = ChildTable(
    "planning_flows",
    columns=(
        ChildColumn("assessment_flow_id", ColumnKind.UUID),
        ChildColumn("application_count", ColumnKind.INTEGER),
        ChildColumn("wave_count", ColumnKind.INTEGER),
    ),
    project=planning_columns,
)
