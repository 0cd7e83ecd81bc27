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
        example_configuration={
            "data": "hostname,type,os,os_version,env,depends_on\n"
            "web1,server,Ubuntu,16.04,prod,db1\n"
            "db1,database,RHEL,7,prod,\n"
            "web2,server,Ubuntu,22.04,dev,db1;web1\n"
        },
        example_inputs={"field_mapping": {"approved": True, "mappings": {}}},
    )


__all__ = ["DiscoveryFlowService", "register"]
