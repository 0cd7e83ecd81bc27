"""WavePlanningFlowService: the planning flow type's adapter, and its child table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer, Uuid

from adapters.flow_types.child_table import ChildTableFlowType, child_table
from adapters.flow_types.planning import phases
from domain.errors import IllegalTransition
from domain.flow import Flow
from domain.phases import PhaseOutcome

planning_flows = child_table(
    "planning_flows",
    Column("assessment_flow_id", Uuid),
    Column("application_count", Integer),
    Column("wave_count", Integer),
)


class WavePlanningFlowService(ChildTableFlowType):
    name = "planning"
    phases = phases.PHASES
    table = planning_flows

    def child_columns(self, flow: Flow) -> dict[str, Any]:
        results = flow.phase_results
        scope = results.get("scope_intake", {})
        return {
            "assessment_flow_id": scope.get("assessment_flow_id"),
            "application_count": len(scope["applications"]) if "applications" in scope else None,
            "wave_count": results.get("wave_assignment", {}).get("wave_count"),
        }

    async def run_phase(self, flow: Flow, phase: str) -> PhaseOutcome:
        if phase == "scope_intake":
            return await phases.scope_intake(self.unit_of_work, flow)  # type: ignore[arg-type]
        handlers = {
            "move_grouping": phases.move_grouping,
            "wave_assignment": phases.wave_assignment,
            "schedule": phases.schedule,
        }
        return handlers[phase](flow)

    async def accept_input(self, flow: Flow, phase: str, payload: dict[str, Any]) -> PhaseOutcome:
        raise IllegalTransition(flow.flow_id, flow.status, "submit_input", "wave planning takes no input")
