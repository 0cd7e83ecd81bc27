"""API keys: random secrets shown once; the database keeps only their SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Index, String, Table, Uuid, bindparam, insert, select, update

from adapters.persistence.database import Database
from adapters.persistence.statements import Statement, rows_written
from adapters.persistence.tables import metadata
from domain.auth import AuthenticationFailed, Principal, Role
from domain.events import Tenant

PREFIX = "mfo_"
_ROLES = ", ".join(f"'{role}'" for role in Role)
PLATFORM_KEY_HAS_NO_TENANT = (
    "CASE WHEN role = 'platform' THEN client_account_id IS NULL AND engagement_id IS NULL "
    "ELSE client_account_id IS NOT NULL AND engagement_id IS NOT NULL END"
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("key_hash", String(64), nullable=False),
    Column("client_account_id", Uuid),  # both NULL exactly for a platform operator's key (migration 0009)
    Column("engagement_id", Uuid),
    Column("role", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    CheckConstraint(f"role IN ({_ROLES})", name="role"),
    CheckConstraint(PLATFORM_KEY_HAS_NO_TENANT, name="platform_key_has_no_tenant"),
    Index("ix_api_keys_tenant", "client_account_id", "engagement_id"),
)


_FIND = Statement(select(api_keys).where(api_keys.c.key_id == bindparam("key_id")))
_CREATE = Statement(insert(api_keys))
_REVOKE = Statement(
    update(api_keys)
    .where(api_keys.c.key_id == bindparam("key_id"), api_keys.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)


def key_hash(key: str) -> str:
    """A fast hash is enough: the key is 256 random bits, so it cannot be guessed from its hash."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """(key id, full key). The id is public (it finds the row); the rest is the secret."""
    key_id = secrets.token_hex(8)
    return key_id, f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(key: str) -> str:
    parts = key.split("_")
    if len(parts) < 3 or parts[0] + "_" != PREFIX or len(parts[1]) != 16:
        raise AuthenticationFailed("the API key is malformed")
    return parts[1]


@dataclass(frozen=True)
class CreatedApiKey:
    key_id: str
    key: str
    """The full key: shown once, never stored."""


class SqlApiKeyStore:
    """Finds keys with the application's database (read-only); creates and revokes them as the schema owner."""

    def __init__(self, reader: Database, owner: Database | None = None) -> None:
        self._reader = reader
        self._owner = owner or reader

    async def authenticate(self, key: str) -> Principal:
        key_id = key_id_of(key)
        async with self._reader.connection() as connection:
            row = await connection.fetchrow(_FIND.sql, *_FIND.arguments({"key_id": key_id}))
        if row is None or not hmac.compare_digest(row["key_hash"], key_hash(key)):
            raise AuthenticationFailed("the API key is not known")
        if row["revoked_at"] is not None:
            raise AuthenticationFailed("the API key has been revoked")
        role = Role(row["role"])
        return Principal(
            subject=f"api-key:{row['name']}",
            role=role,
            tenant=None if role is Role.PLATFORM else Tenant(row["client_account_id"], row["engagement_id"]),
            method="api-key",
        )

    async def create(self, tenant: Tenant | None, role: Role, name: str, now: datetime | None = None) -> CreatedApiKey:
        """A key for a tenant and role, or (``tenant`` None, role ``platform``) for the platform operator."""
        if (tenant is None) != (role is Role.PLATFORM):
            raise ValueError("a platform key names no tenant; every other role's key names one")
        key_id, key = new_key()
        row = {
            "key_id": key_id,
            "key_hash": key_hash(key),
            "client_account_id": tenant and tenant.client_account_id,
            "engagement_id": tenant and tenant.engagement_id,
            "role": str(role),
            "name": name,
            "created_at": now or datetime.now(UTC),
            "revoked_at": None,
        }
        async with self._owner.connection() as connection:
            await connection.execute(_CREATE.sql, *_CREATE.arguments(row))
        return CreatedApiKey(key_id=key_id, key=key)

    async def revoke(self, key_id: str, now: datetime | None = None) -> bool:
        params = {"key_id": key_id, "now": now or datetime.now(UTC)}
        async with self._owner.connection() as connection:
            status = await connection.execute(_REVOKE.sql, *_REVOKE.arguments(params))
        return rows_written(status) == 1
