"""The discovery flow type: import, map, cleanse, inventory, dependencies, technical debt."""

from __future__ import annotations

from adapters.flow_types.discovery import configuration, phases
from adapters.flow_types.discovery.child_record import DISCOVERY_FLOWS
from adapters.flow_types.discovery.input_schema import FIELD_MAPPING_INPUT
from domain.flow_types import FlowTypeDefinition, pure_input, pure_phase


def register() -> FlowTypeDefinition:
    """The ``mfo.flow_types`` entry point of discovery."""
    return FlowTypeDefinition(
        name="discovery",
        phases=phases.PHASES,
        run={name: pure_phase(handler) for name, handler in phases.HANDLERS.items()},
        accept={name: pure_input(handler) for name, handler in phases.INPUT_HANDLERS.items()},
        validate_configuration=configuration.validate_configuration,
        child_table=DISCOVERY_FLOWS,
        description="Import an asset inventory, map and cleanse it, then analyse dependencies and technical debt.",
        example_configuration={
            "data": "hostname,type,os,os_version,env,depends_on\n"
            "web1,server,Ubuntu,16.04,prod,db1\n"
            "db1,database,RHEL,7,prod,\n"
            "web2,server,Ubuntu,22.04,dev,db1;web1\n"
        },
        example_inputs={"field_mapping": {"approved": True, "mappings": {}}},
        input_schemas={"field_mapping": FIELD_MAPPING_INPUT},
    )


__all__ = ["register"]
