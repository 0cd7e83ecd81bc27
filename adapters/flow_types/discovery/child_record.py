"""discovery_flows: discovery's own record of a flow, beside the master row."""

from __future__ import annotations

from typing import Any

from adapters.flow_types.discovery.phases import PHASES
from domain.flow import Flow
from domain.flow_types import ChildColumn, ChildTable, ColumnKind
from domain.lifecycle import PhaseState


def discovery_columns(flow: Flow) -> dict[str, Any]:
    """A phase the flow's version does not have (a later version may drop one) is not completed."""
    results = flow.phase_results
    mapping = results.get("field_mapping", {})
    completed = {p.name for p in flow.phases if p.state == PhaseState.COMPLETED}
    return {
        **{f"{p}_completed": p in completed for p in PHASES},
        "field_mappings": mapping.get("mappings") if "field_mapping" in completed else None,
        "asset_count": results.get("asset_inventory", {}).get("total"),
    }


DISCOVERY_FLOWS = ChildTable(
    "discovery_flows",
    columns=(
        *(ChildColumn(f"{phase}_completed", ColumnKind.BOOLEAN, nullable=False) for phase in PHASES),
        ChildColumn("field_mappings", ColumnKind.JSON),
        ChildColumn("asset_count", ColumnKind.INTEGER),
    ),
    project=discovery_columns,
)
