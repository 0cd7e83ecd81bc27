"""The tenant a transaction may see: two transaction-local settings that row-level security reads.

A scoped unit of work begins each of its transactions with :func:`begin_scoped`: ``BEGIN`` and the two
``set_config(..., true)`` calls (like ``SET LOCAL``) in one simple-protocol message, so scoping costs no round trip
of its own (ADR 0013). The values are the tenant's UUIDs as ``uuid.UUID`` renders them: nothing a client wrote
reaches that SQL. A transaction scoped after it began gets :data:`SET_TENANT`, with bound parameters. Either way
the scope ends with the transaction, so a pooled connection never carries a tenant to its next borrower, and
behind PgBouncer in transaction pooling mode (ADR 0017) a server connection never carries one to another client.
The same message may set other settings for the transaction alone (the timeouts behind PgBouncer).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from uuid import UUID

from adapters.persistence.row_level_security import CLIENT_SETTING, ENGAGEMENT_SETTING
from domain.events import Tenant

SET_TENANT = f"SELECT set_config('{CLIENT_SETTING}', $1, true), set_config('{ENGAGEMENT_SETTING}', $2, true)"
"""The tenant's two settings as a statement of its own, bound as parameters."""


def tenant_arguments(tenant: Tenant) -> tuple[str, str]:
    return str(tenant.client_account_id), str(tenant.engagement_id)


_NAME = re.compile(r"^[a-z_][a-z0-9_.]*$")
_VALUE = re.compile(r"^[0-9A-Za-z_.-]*$")


def begin_scoped(tenant: Tenant | None, settings: Mapping[str, str] | None = None) -> str:
    """The message that begins a transaction limited to ``tenant`` (or, with None, to no tenant's rows), with
    ``settings`` (name: value, such as ``lock_timeout``: ``5000``) in force for the transaction alone. A name or a
    value that is more than letters, digits, ``_``, ``.`` or ``-`` is refused (ValueError): it is written into SQL."""
    calls = []
    for name, value in (settings or {}).items():
        if not (_NAME.match(name) and _VALUE.match(value)):
            raise ValueError(f"{name}={value!r} cannot be set in a transaction's first message")
        calls.append(f"set_config('{name}', '{value}', true)")
    if tenant is not None:
        client, engagement = UUID(str(tenant.client_account_id)), UUID(str(tenant.engagement_id))
        calls += [
            f"set_config('{CLIENT_SETTING}', '{client}', true)",
            f"set_config('{ENGAGEMENT_SETTING}', '{engagement}', true)",
        ]
    return "BEGIN; SELECT " + ", ".join(calls) if calls else "BEGIN"
