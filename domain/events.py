"""Domain events: one per state change, numbered by the flow's version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class Tenant:
    """The scope every flow belongs to. No query may cross it."""

    client_account_id: UUID
    engagement_id: UUID


@dataclass(frozen=True)
class FlowEvent:
    """A fact: ``actor`` did ``operation`` on a flow, taking it from one status to another.

    ``data`` holds what the change did besides the status (phase states, phase results,
    errors, input), so replaying a flow's events rebuilds the flow exactly.
    """

    flow_id: UUID
    tenant: Tenant
    version: int
    operation: str
    actor: str
    from_status: str | None
    to_status: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
