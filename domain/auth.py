"""Who is calling: a principal (tenant, role, subject) and the roles' order. Pure Python.

Two kinds of caller: a tenant's (``viewer`` < ``operator`` < ``admin``, always with a tenant) and the platform
operator (``platform``, never with a tenant), who runs the service itself: the system-wide consistency audit, the
legacy usage counts, the metrics. Neither kind may act as the other: ``platform`` is not above ``admin``, it is
beside the tenant roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.events import Tenant


class Role(StrEnum):
    """The tenant roles are ordered: each may do everything the ones before it may. ``PLATFORM`` stands apart: it
    allows only what needs ``PLATFORM``, and no tenant role allows that."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    PLATFORM = "platform"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    @property
    def is_tenant_role(self) -> bool:
        return self is not Role.PLATFORM

    def allows(self, required: Role) -> bool:
        if Role.PLATFORM in (self, required):
            return self is required
        return self.rank >= required.rank


TENANT_ROLES = tuple(role for role in Role if role.is_tenant_role)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``tenant`` and ``role`` come from a verified credential, never from a header.

    ``tenant`` is None for the platform operator (role ``platform``), and otherwise only for a development-mode
    caller that sent no tenant headers. A platform principal with a tenant cannot be built.
    """

    subject: str
    role: Role
    tenant: Tenant | None
    method: str  # "jwt", "api-key" or "dev-headers"

    def __post_init__(self) -> None:
        if self.role is Role.PLATFORM and self.tenant is not None:
            raise ValueError("the platform operator is not scoped to a tenant")

    @property
    def is_platform(self) -> bool:
        return self.role is Role.PLATFORM


class AuthenticationFailed(Exception):
    """The credential is missing, malformed, expired, revoked or not signed by a trusted key."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        self.reason = reason
        self.missing = missing
        super().__init__(reason)
