"""The assessment flow type: a completed discovery's inventory -> a 6R recommendation per application."""

from __future__ import annotations

from adapters.flow_types.assessment.phases import INPUT_PHASES, PHASES
from adapters.flow_types.assessment.service import AssessmentFlowService
from domain.flow_types import FlowTypeDefinition


def register() -> FlowTypeDefinition:
    """The ``mfo.flow_types`` entry point of assessment."""
    return FlowTypeDefinition(
        name="assessment",
        phases=PHASES,
        factory=AssessmentFlowService,
        description="Recommend a 6R migration strategy per application from a completed discovery flow.",
        input_phases=INPUT_PHASES,
        example_configuration={"discovery_flow_id": "the id of a completed discovery flow"},
        example_inputs={"recommendation_review": {"approved": True, "overrides": {}}},
    )


__all__ = ["AssessmentFlowService", "register"]
