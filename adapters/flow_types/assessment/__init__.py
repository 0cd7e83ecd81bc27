"""The assessment flow type: a completed discovery's inventory -> a 6R recommendation per application."""

from __future__ import annotations

from adapters.flow_types.assessment import configuration, phases
from adapters.flow_types.assessment.child_record import ASSESSMENT_FLOWS
from adapters.flow_types.assessment.input_schema import RECOMMENDATION_REVIEW_INPUT
from domain.flow_types import FlowTypeDefinition, pure_input, pure_phase


def register() -> FlowTypeDefinition:
    """The ``mfo.flow_types`` entry point of assessment."""
    return FlowTypeDefinition(
        name="assessment",
        phases=phases.PHASES,
        run={
            "inventory_intake": phases.inventory_intake,
            "six_r_scoring": pure_phase(phases.six_r_scoring),
            "recommendation_review": pure_phase(phases.recommendation_review),
            "assessment_summary": pure_phase(phases.assessment_summary),
        },
        accept={"recommendation_review": pure_input(phases.accept_review)},
        validate_configuration=configuration.validate_configuration,
        child_table=ASSESSMENT_FLOWS,
        description="Recommend a 6R migration strategy per application from a completed discovery flow.",
        example_configuration={"discovery_flow_id": "00000000-0000-0000-0000-000000000000"},
        example_inputs={"recommendation_review": {"approved": True, "overrides": {}}},
        input_schemas={"recommendation_review": RECOMMENDATION_REVIEW_INPUT},
    )


__all__ = ["register"]
