"""The master tables. Every primary key and index starts with the tenant."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB

from domain.lifecycle import FlowStatus

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)

_STATUSES = ", ".join(f"'{status}'" for status in FlowStatus)


def tenant_columns() -> list[Column]:
    return [
        Column("client_account_id", Uuid, primary_key=True),
        Column("engagement_id", Uuid, primary_key=True),
        Column("flow_id", Uuid, primary_key=True),
    ]


def master_flow_reference(table_name: str) -> ForeignKeyConstraint:
    """A child table's foreign key to its master row (tenant included)."""
    return ForeignKeyConstraint(
        ["client_account_id", "engagement_id", "flow_id"],
        ["flows.client_account_id", "flows.engagement_id", "flows.flow_id"],
        name=f"fk_{table_name}_flows",
    )


flows = Table(
    "flows",
    metadata,
    *tenant_columns(),
    Column("flow_type", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(32), nullable=False),
    Column("current_phase", String(64)),
    Column("phases", JSONB, nullable=False),
    Column("configuration", JSONB, nullable=False),
    Column("phase_results", JSONB, nullable=False),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("auto_run", Boolean, nullable=False, server_default=false()),
    # the phase being run: its attempt, its run id, when its next attempt is due (domain.flow.PhaseRun)
    Column("phase_run", JSONB),
    # when a runner should claim work of the flow (domain.background.due_at); NULL when none is due
    Column("run_due_at", DateTime(timezone=True)),
    # what the flow runs under, recorded at its creation: its type's version, phases, input phases, per-phase
    # policies and whether the CrewAI bridge runs them (domain.contract.ExecutionContract)
    Column("contract", JSONB, nullable=False),
    # the trace of the change that left the flow due for a runner's claim of its next phase (domain.flow.Flow)
    Column("trace_context", JSONB),
    CheckConstraint(f"status IN ({_STATUSES})", name="status"),
    CheckConstraint("version >= 1", name="version"),
)

Index(
    "ix_flows_tenant_created",
    flows.c.client_account_id,
    flows.c.engagement_id,
    flows.c.created_at.desc(),
    flows.c.flow_id.desc(),
)
Index(
    "ix_flows_tenant_type_status",
    flows.c.client_account_id,
    flows.c.engagement_id,
    flows.c.flow_type,
    flows.c.status,
    flows.c.created_at.desc(),
    flows.c.flow_id.desc(),
)

Index(
    "ix_flows_run_due_at",
    flows.c.run_due_at,
    postgresql_where=flows.c.run_due_at.isnot(None),
)

flow_events = Table(
    "flow_events",
    metadata,
    *tenant_columns(),
    Column("version", Integer, primary_key=True),
    Column("operation", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("from_status", String(32)),
    Column("to_status", String(32), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("data", JSONB, nullable=False),
    master_flow_reference("flow_events"),
)


phase_leases = Table(
    "phase_leases",
    metadata,
    *tenant_columns(),
    Column("run_id", Uuid, nullable=False, unique=True),
    Column("owner", String(200), nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    master_flow_reference("phase_leases"),
)
"""The lease of each flow's attempt in progress: which runner holds it, until when (its heartbeats extend it)."""
Index("ix_phase_leases_expires_at", phase_leases.c.expires_at)
Index("ix_phase_leases_owner", phase_leases.c.owner)

phase_attempts = Table(
    "phase_attempts",
    metadata,
    Column("client_account_id", Uuid, primary_key=True),
    Column("engagement_id", Uuid, primary_key=True),
    Column("flow_id", Uuid, primary_key=True),
    Column("run_id", Uuid, primary_key=True),
    Column("phase", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("result", String(32)),
    Column("detail", Text),
    master_flow_reference("phase_attempts"),
)
"""Every attempt of every phase, and how it ended (discarded completions included)."""
Index(
    "ix_phase_attempts_flow_started",
    phase_attempts.c.client_account_id,
    phase_attempts.c.engagement_id,
    phase_attempts.c.flow_id,
    phase_attempts.c.started_at.desc(),
)
