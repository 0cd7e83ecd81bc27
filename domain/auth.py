"""Who is calling: a principal (tenant, role, subject) and the roles' order. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.events import Tenant


class Role(StrEnum):
    """Ordered: each role may do everything the roles before it may."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, required: Role) -> bool:
        return self.rank >= required.rank


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``tenant`` and ``role`` come from a verified credential, never from a header.

    ``tenant`` is None only for a development-mode caller that sent no tenant headers.
    """

    subject: str
    role: Role
    tenant: Tenant | None
    method: str  # "jwt", "api-key" or "dev-headers"


class AuthenticationFailed(Exception):
    """The credential is missing, malformed, expired, revoked or not signed by a trusted key."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        self.reason = reason
        self.missing = missing
        super().__init__(reason)
