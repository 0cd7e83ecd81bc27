"""AssessmentFlowService: the assessment flow type's adapter, and its child table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer, Uuid
from sqlalchemy.dialects.postgresql import JSONB

from adapters.flow_types.assessment import phases
from adapters.flow_types.child_table import ChildTableFlowType, child_table
from domain.errors import IllegalTransition
from domain.flow import Flow
from domain.phases import PhaseOutcome

assessment_flows = child_table(
    "assessment_flows",
    Column("discovery_flow_id", Uuid),
    Column("application_count", Integer),
    Column("strategy_counts", JSONB),
)


class AssessmentFlowService(ChildTableFlowType):
    name = "assessment"
    phases = phases.PHASES
    table = assessment_flows

    def child_columns(self, flow: Flow) -> dict[str, Any]:
        results = flow.phase_results
        intake = results.get("inventory_intake", {})
        summary = results.get("assessment_summary") or results.get("six_r_scoring") or {}
        return {
            "discovery_flow_id": intake.get("discovery_flow_id"),
            "application_count": len(intake["applications"]) if "applications" in intake else None,
            "strategy_counts": summary.get("by_strategy"),
        }

    async def run_phase(self, flow: Flow, phase: str) -> PhaseOutcome:
        if phase == "inventory_intake":
            return await phases.inventory_intake(self.unit_of_work, flow)  # type: ignore[arg-type]
        handlers = {
            "six_r_scoring": phases.six_r_scoring,
            "recommendation_review": phases.recommendation_review,
            "assessment_summary": phases.assessment_summary,
        }
        return handlers[phase](flow)

    async def accept_input(self, flow: Flow, phase: str, payload: dict[str, Any]) -> PhaseOutcome:
        if phase != "recommendation_review":  # pragma: no cover - only this phase waits for input
            raise IllegalTransition(flow.flow_id, flow.status, "submit_input", f"phase '{phase}' takes no input")
        return phases.accept_review(flow, payload)
