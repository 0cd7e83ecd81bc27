"""The discovery flow type: import, map, cleanse, inventory, dependencies, technical debt."""

from __future__ import annotations

from adapters.flow_types.discovery.phases import INPUT_PHASES, PHASES
from adapters.flow_types.discovery.service import DiscoveryFlowService
from domain.flow_types import FlowTypeDefinition


def register() -> FlowTypeDefinition:
    """The ``mfo.flow_types`` entry point of discovery."""
    return FlowTypeDefinition(
        name="discovery",
        phases=PHASES,
        factory=DiscoveryFlowService,
        description="Import an asset inventory, map and cleanse it, then analyse dependencies and technical debt.",
        input_phases=INPUT_PHASES,
    )


__all__ = ["DiscoveryFlowService", "register"]
