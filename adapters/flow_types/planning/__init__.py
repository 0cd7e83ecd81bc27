"""The planning flow type: a completed assessment -> move groups -> migration waves -> a schedule."""

from __future__ import annotations

from adapters.flow_types.planning import configuration, phases
from adapters.flow_types.planning.child_record import PLANNING_FLOWS
from domain.flow_types import FlowTypeDefinition, pure_phase


def register() -> FlowTypeDefinition:
    """The ``mfo.flow_types`` entry point of planning."""
    return FlowTypeDefinition(
        name="planning",
        phases=phases.PHASES,
        run={
            "scope_intake": phases.scope_intake,
            "move_grouping": pure_phase(phases.move_grouping),
            "wave_assignment": pure_phase(phases.wave_assignment),
            "schedule": pure_phase(phases.schedule),
        },
        validate_configuration=configuration.validate_configuration,
        child_table=PLANNING_FLOWS,
        description="Group a completed assessment's applications by dependency into dated migration waves.",
        example_configuration={"assessment_flow_id": "00000000-0000-0000-0000-000000000000", "wave_size": 5},
    )


__all__ = ["register"]
