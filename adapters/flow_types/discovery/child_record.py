"""discovery_flows: discovery's own record of a flow, beside the master row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Integer
from sqlalchemy.dialects.postgresql import JSONB

from adapters.flow_types.child_table import child_table
from adapters.flow_types.discovery.phases import PHASES
from domain.flow import Flow
from domain.lifecycle import PhaseState

discovery_flows = child_table(
    "discovery_flows",
    *(Column(f"{phase}_completed", Boolean, nullable=False) for phase in PHASES),
    Column("field_mappings", JSONB),
    Column("asset_count", Integer),
)


def discovery_columns(flow: Flow) -> dict[str, Any]:
    results = flow.phase_results
    mapping = results.get("field_mapping", {})
    return {
        **{f"{p}_completed": flow.phase_state(p) == PhaseState.COMPLETED for p in PHASES},
        "field_mappings": mapping.get("mappings")
        if flow.phase_state("field_mapping") == PhaseState.COMPLETED
        else None,
        "asset_count": results.get("asset_inventory", {}).get("total"),
    }
