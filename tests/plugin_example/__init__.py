"""A flow type defined only in the test package, exactly as docs/adding-a-flow-type.md describes.

"inspection": a site survey counts the rooms in the configuration, then waits for a sign-off.
"""

from __future__ import annotations

from typing import Any

from domain.errors import InvalidFlowInput, PhaseFailed
from domain.flow import Flow
from domain.flow_types import ChildColumn, ChildTable, ColumnKind, FlowTypeDefinition, PhaseContext
from domain.phases import PhaseOutcome

PHASES = ("survey", "sign_off", "report")


async def survey(flow: Flow, context: PhaseContext) -> PhaseOutcome:
    rooms = flow.configuration.get("rooms")
    if not isinstance(rooms, list):
        raise PhaseFailed("the configuration needs 'rooms', a list of room names")
    return PhaseOutcome.completed({"rooms": len(rooms)})


async def sign_off(flow: Flow, context: PhaseContext) -> PhaseOutcome:
    return PhaseOutcome.needs_input({"question": f"sign off {flow.phase_results['survey']['rooms']} rooms?"})


async def accept_sign_off(flow: Flow, payload: dict[str, Any], context: PhaseContext) -> PhaseOutcome:
    if not isinstance(payload.get("by"), str):
        raise InvalidFlowInput("sign_off needs 'by': who signs off")
    return PhaseOutcome.completed({"by": payload["by"]})


async def report(flow: Flow, context: PhaseContext) -> PhaseOutcome:
    return PhaseOutcome.completed({"signed_by": flow.phase_results["sign_off"]["by"]})


INSPECTION_FLOWS = ChildTable(
    "inspection_flows",
    columns=(ChildColumn("room_count", ColumnKind.INTEGER),),
    project=lambda flow: {"room_count": flow.phase_results.get("survey", {}).get("rooms")},
)


def register() -> FlowTypeDefinition:
    return FlowTypeDefinition(
        name="inspection",
        phases=PHASES,
        run={"survey": survey, "sign_off": sign_off, "report": report},
        accept={"sign_off": accept_sign_off},
        child_table=INSPECTION_FLOWS,
        description="Survey a site's rooms and get a sign-off.",
        example_configuration={"rooms": ["hall", "lab"]},
        example_inputs={"sign_off": {"by": "harness"}},
    )


def not_a_definition() -> str:
    return "this is not a flow type"
