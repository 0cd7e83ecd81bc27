"""The planning flow type: a completed assessment -> move groups -> migration waves -> a schedule."""

from __future__ import annotations

from adapters.flow_types.planning.phases import PHASES
from adapters.flow_types.planning.service import WavePlanningFlowService
from domain.flow_types import FlowTypeDefinition


def register() -> FlowTypeDefinition:
    """The ``mfo.flow_types`` entry point of planning."""
    return FlowTypeDefinition(
        name="planning",
        phases=PHASES,
        factory=WavePlanningFlowService,
        description="Group a completed assessment's applications by dependency into dated migration waves.",
        example_configuration={"assessment_flow_id": "the id of a completed assessment flow", "wave_size": 5},
    )


__all__ = ["WavePlanningFlowService", "register"]
