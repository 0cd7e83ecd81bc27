"""DiscoveryFlowService: the discovery flow type's adapter."""

from __future__ import annotations

from typing import Any

from adapters.flow_types.child_table import ChildTableFlowType
from adapters.flow_types.discovery import phases
from adapters.flow_types.discovery.child_record import discovery_columns, discovery_flows
from domain.errors import IllegalTransition
from domain.flow import Flow
from domain.phases import PhaseOutcome


class DiscoveryFlowService(ChildTableFlowType):
    name = "discovery"
    phases = phases.PHASES
    table = discovery_flows

    def child_columns(self, flow: Flow) -> dict[str, Any]:
        return discovery_columns(flow)

    async def run_phase(self, flow: Flow, phase: str) -> PhaseOutcome:
        return phases.HANDLERS[phase](flow)

    async def accept_input(self, flow: Flow, phase: str, payload: dict[str, Any]) -> PhaseOutcome:
        handler = phases.INPUT_HANDLERS.get(phase)
        if handler is None:  # pragma: no cover - only input phases wait for input
            raise IllegalTransition(flow.flow_id, flow.status, "submit_input", f"phase '{phase}' takes no input")
        return handler(flow, payload)
