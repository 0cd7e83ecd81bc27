"""The tenant a transaction may see, set in the same round trip as its ``BEGIN``.

Row-level security reads the tenant from two transaction-local settings (``set_config(..., true)``, like ``SET
LOCAL``; adapters/persistence/row_level_security.py). Every transaction of a scoped session gets them: the session's
``after_begin`` event fires before the first statement of each of its transactions, when SQLAlchemy's asyncpg
adapter has not yet sent ``BEGIN`` (it sends it with that first statement).

On the engines of :func:`adapters.persistence.engine.create_pg_engine` the connection is a
:class:`ScopedBeginConnection`: the event leaves the tenant on it, and the ``BEGIN`` asyncpg sends next carries the
two ``set_config`` calls in the same simple-protocol message, one round trip instead of two (ADR 0011). The values
are UUIDs, rendered by ``uuid.UUID`` itself, so nothing a client wrote reaches that SQL. On any other connection
(or one whose transaction has already begun) the event runs ``SET_TENANT`` as a statement of its own, with bound
parameters. A tenant left on a connection whose transaction never began is cleared when the pool takes it back, so
it can never scope someone else's transaction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from domain.events import Tenant

_SCOPE = "SELECT set_config('mfo.client_account_id', {}, true), set_config('mfo.engagement_id', {}, true)"
SET_TENANT = text(_SCOPE.format(":client_account_id", ":engagement_id"))
"""The tenant's two settings as a statement of its own, bound as parameters."""
SCOPED_TENANT = "mfo.tenant"
"""The key of ``Session.info`` holding the tenant a unit of work was scoped to."""


def tenant_parameters(tenant: Tenant) -> dict[str, str]:
    return {"client_account_id": str(tenant.client_account_id), "engagement_id": str(tenant.engagement_id)}


class ScopedBeginConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection whose next ``BEGIN`` also sets the tenant left on it by :meth:`scope_next_begin`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._begin_scope: str | None = None

    def scope_next_begin(self, tenant: Tenant | None) -> None:
        """Set (or, with None, forget) the tenant the next transaction begun on this connection is scoped to."""
        if tenant is None:
            self._begin_scope = None
            return
        client, engagement = UUID(str(tenant.client_account_id)), UUID(str(tenant.engagement_id))
        self._begin_scope = _SCOPE.format(f"'{client}'", f"'{engagement}'") + ";"

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        if self._begin_scope is not None and not args and query.startswith("BEGIN"):
            query, self._begin_scope = f"{query} {self._begin_scope}", None
        return await super().execute(query, *args, timeout=timeout)


@event.listens_for(Session, "after_begin")
def _scope_new_transaction(session: Session, _: SessionTransaction, connection: Connection) -> None:
    """Every transaction a scoped session begins (the first, and each after a commit) gets its tenant."""
    tenant = session.info.get(SCOPED_TENANT)
    adapted = connection.connection.dbapi_connection
    driver = getattr(adapted, "driver_connection", None)
    if isinstance(driver, ScopedBeginConnection) and getattr(adapted, "_transaction", True) is None:
        driver.scope_next_begin(tenant)  # BEGIN not sent yet: it will carry the tenant
    elif tenant is not None:
        connection.execute(SET_TENANT, tenant_parameters(tenant))


def forget_unbegun_scope(dbapi_connection: Any, _record: Any) -> None:
    """Pool ``checkin`` listener: a tenant left for a ``BEGIN`` that never came does not outlive the checkout."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if isinstance(driver, ScopedBeginConnection):
        driver.scope_next_begin(None)
