"""A flow type defined only in the test package, exactly as docs/adding-a-flow-type.md describes.

"inspection": a site survey counts the rooms in the configuration, then waits for a sign-off.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer

from adapters.flow_types.child_table import ChildTableFlowType, child_table
from domain.errors import IllegalTransition, InvalidFlowInput, PhaseFailed
from domain.flow import Flow
from domain.flow_types import FlowTypeDefinition
from domain.phases import PhaseOutcome

PHASES = ("survey", "sign_off", "report")

inspection_flows = child_table("inspection_flows", Column("room_count", Integer))


class InspectionFlowService(ChildTableFlowType):
    name = "inspection"
    phases = PHASES
    table = inspection_flows

    def child_columns(self, flow: Flow) -> dict[str, Any]:
        return {"room_count": flow.phase_results.get("survey", {}).get("rooms")}

    async def run_phase(self, flow: Flow, phase: str) -> PhaseOutcome:
        if phase == "survey":
            rooms = flow.configuration.get("rooms")
            if not isinstance(rooms, list):
                raise PhaseFailed("the configuration needs 'rooms', a list of room names")
            return PhaseOutcome.completed({"rooms": len(rooms)})
        if phase == "sign_off":
            return PhaseOutcome.needs_input({"question": f"sign off {flow.phase_results['survey']['rooms']} rooms?"})
        return PhaseOutcome.completed({"signed_by": flow.phase_results["sign_off"]["by"]})

    async def accept_input(self, flow: Flow, phase: str, payload: dict[str, Any]) -> PhaseOutcome:
        if phase != "sign_off":
            raise IllegalTransition(flow.flow_id, flow.status, "submit_input", f"{phase} takes no input")
        if not isinstance(payload.get("by"), str):
            raise InvalidFlowInput("sign_off needs 'by': who signs off")
        return PhaseOutcome.completed({"by": payload["by"]})


def register() -> FlowTypeDefinition:
    return FlowTypeDefinition(
        name="inspection",
        phases=PHASES,
        factory=InspectionFlowService,
        description="Survey a site's rooms and get a sign-off.",
        input_phases=("sign_off",),
        example_configuration={"rooms": ["hall", "lab"]},
        example_inputs={"sign_off": {"by": "harness"}},
    )


def not_a_definition() -> str:
    return "this is not a flow type"
