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
