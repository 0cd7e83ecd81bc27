"""Each flow type's child table, built from the ``ChildTable`` its definition declares.

The shared columns come first (the tenant, ``flow_id``, ``status``, ``master_version``, ``progress_percent``,
``updated_at``, the foreign key to ``flows``), then the type's own. :func:`child_table_for` builds the table on a
metadata of its own (for statements); :func:`add_child_table` adds it to a schema's metadata (for migrations), and
:func:`child_table_ddl` gives the DDL a type outside this repository ships in its own migration.
"""

from __future__ import annotations

import functools

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import CreateTable
from sqlalchemy.types import TypeEngine

from adapters.persistence.row_level_security import tenant_isolation_sql
from adapters.persistence.tables import NAMING_CONVENTION, flows, master_flow_reference, tenant_columns
from domain.flow_types import ChildTable, ColumnKind
from domain.status_sync import CHILD_STATUSES

_TYPES: dict[ColumnKind, type[TypeEngine]] = {
    ColumnKind.BOOLEAN: Boolean,
    ColumnKind.INTEGER: Integer,
    ColumnKind.TEXT: Text,
    ColumnKind.UUID: Uuid,
    ColumnKind.JSON: JSONB,
}


def add_child_table(spec: ChildTable, metadata: MetaData) -> Table:
    statuses = ", ".join(f"'{s}'" for s in CHILD_STATUSES)
    return Table(
        spec.name,
        metadata,
        *tenant_columns(),
        Column("status", String(32), nullable=False),
        Column("master_version", Integer, nullable=False),
        Column("progress_percent", Integer, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        *(Column(c.name, _TYPES[c.kind], nullable=c.nullable) for c in spec.columns),
        CheckConstraint(f"status IN ({statuses})", name="status"),
        master_flow_reference(spec.name),
    )


@functools.cache
def child_table_for(spec: ChildTable) -> Table:
    """The SQLAlchemy table of ``spec``, built once (beside a copy of ``flows``, which its foreign key names)."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    flows.to_metadata(metadata)
    return add_child_table(spec, metadata)


def child_table_ddl(spec: ChildTable) -> list[str]:
    """``CREATE TABLE`` for ``spec`` and its row-level security: a type's own migration, run as the schema's owner."""
    create = str(CreateTable(child_table_for(spec)).compile(dialect=postgresql.dialect()))
    return [create.strip(), *tenant_isolation_sql(spec.name)]
