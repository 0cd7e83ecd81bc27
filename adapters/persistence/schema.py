"""The schema MFO's migrations manage: the master tables and each built-in flow type's child table.

Alembic's environment compares this metadata with the database (autogenerate). The child tables come from the
built-in types' definitions, named here explicitly; a type outside this repository ships its own migration
(adapters/persistence/child_tables.py, ``child_table_ddl``).
"""

from __future__ import annotations

from sqlalchemy import MetaData

from adapters.auth.api_keys import api_keys
from adapters.flow_types import assessment, discovery, planning
from adapters.persistence.audit_runs import consistency_audit_runs
from adapters.persistence.bridge_states import crewai_flow_states
from adapters.persistence.child_tables import add_child_table
from adapters.persistence.idempotency_store import idempotency_keys
from adapters.persistence.tables import NAMING_CONVENTION, flow_events, flows, phase_attempts, phase_leases

CORE_TABLES = (
    flows,
    flow_events,
    crewai_flow_states,
    api_keys,
    consistency_audit_runs,
    idempotency_keys,
    phase_leases,
    phase_attempts,
)
BUILT_IN_FLOW_TYPES = (discovery.register, assessment.register, planning.register)


def built_in_child_table_names() -> list[str]:
    return [register().child_table.name for register in BUILT_IN_FLOW_TYPES]


def schema_metadata() -> MetaData:
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    for table in CORE_TABLES:
        table.to_metadata(metadata)
    for register in BUILT_IN_FLOW_TYPES:
        add_child_table(register().child_table, metadata)
    return metadata
