"""Statements built once per table: a request binds parameters instead of building and compiling SQL.

The cached ones are compiled for the driver (:class:`adapters.persistence.driver.DriverStatement`).
"""

from __future__ import annotations

import functools
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Table, and_, bindparam, select
from sqlalchemy.dialects.postgresql import insert

from adapters.persistence.driver import DriverStatement
from domain.events import Tenant

KEY_COLUMNS = ("client_account_id", "engagement_id", "flow_id")


def by_key(table: Any) -> ColumnElement[bool]:
    """One flow's rows in ``table``: the tenant and the flow id, as bound parameters ``c``, ``e`` and ``f``."""
    return and_(
        table.c.client_account_id == bindparam("c"),
        table.c.engagement_id == bindparam("e"),
        table.c.flow_id == bindparam("f"),
    )


def key_params(tenant: Tenant, flow_id: UUID) -> dict[str, UUID]:
    return {"c": tenant.client_account_id, "e": tenant.engagement_id, "f": flow_id}


@functools.cache
def select_by_key(table: Table) -> DriverStatement:
    return DriverStatement(select(table).where(by_key(table)))


@functools.cache
def upsert_by_key(table: Table) -> DriverStatement:
    """INSERT a row, or UPDATE every other column of the row with the same tenant and flow id."""
    statement = insert(table)
    return DriverStatement(
        statement.on_conflict_do_update(
            index_elements=list(KEY_COLUMNS),
            set_={c.name: statement.excluded[c.name] for c in table.c if c.name not in KEY_COLUMNS},
        )
    )
