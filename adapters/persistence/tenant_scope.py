"""The tenant a transaction may see: two transaction-local settings that row-level security reads.

A scoped unit of work begins each of its transactions with :func:`begin_scoped`: ``BEGIN`` and the two
``set_config(..., true)`` calls (like ``SET LOCAL``) in one simple-protocol message, so scoping costs no round trip
of its own (ADR 0013). The values are the tenant's UUIDs as ``uuid.UUID`` renders them: nothing a client wrote
reaches that SQL. A transaction scoped after it began gets :data:`SET_TENANT`, with bound parameters. Either way
the scope ends with the transaction, so a pooled connection never carries a tenant to its next borrower.
"""

from __future__ import annotations

from uuid import UUID

from adapters.persistence.row_level_security import CLIENT_SETTING, ENGAGEMENT_SETTING
from domain.events import Tenant

SET_TENANT = f"SELECT set_config('{CLIENT_SETTING}', $1, true), set_config('{ENGAGEMENT_SETTING}', $2, true)"
"""The tenant's two settings as a statement of its own, bound as parameters."""


def tenant_arguments(tenant: Tenant) -> tuple[str, str]:
    return str(tenant.client_account_id), str(tenant.engagement_id)


def begin_scoped(tenant: Tenant | None) -> str:
    """The message that begins a transaction limited to ``tenant`` (or, with None, to no tenant's rows)."""
    if tenant is None:
        return "BEGIN"
    client, engagement = UUID(str(tenant.client_account_id)), UUID(str(tenant.engagement_id))
    return (
        f"BEGIN; SELECT set_config('{CLIENT_SETTING}', '{client}', true), "
        f"set_config('{ENGAGEMENT_SETTING}', '{engagement}', true)"
    )
