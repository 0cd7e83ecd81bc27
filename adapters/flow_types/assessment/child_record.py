"""assessment_flows: assessment's own record of a flow, beside the master row."""

from __future__ import annotations

from typing import Any

from domain.flow import Flow
from domain.flow_types import ChildColumn, ChildTable, ColumnKind


def assessment_columns(flow: Flow) -> dict[str, Any]:
    results = flow.phase_results
    intake = results.get("inventory_intake", {})
    summary = results.get("assessment_summary") or results.get("six_r_scoring") or {}
    return {
        "discovery_flow_id": intake.get("discovery_flow_id"),
        "application_count": len(intake["applications"]) if "applications" in intake else None,
        "strategy_counts": summary.get("by_strategy"),
    }


ASSESSMENT_FLOWS = ChildTable(
    "assessment_flows",
    columns=(
        ChildColumn("discovery_flow_id", ColumnKind.UUID),
        ChildColumn("application_count", ColumnKind.INTEGER),
        ChildColumn("strategy_counts", ColumnKind.JSON),
    ),
    project=assessment_columns,
)
