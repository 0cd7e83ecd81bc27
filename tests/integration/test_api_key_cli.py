"""``mfo api-key create`` prints a key once and stores only its hash; ``revoke`` ends it."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest
from sqlalchemy import text

from adapters.auth.api_keys import key_hash
from domain.auth import AuthenticationFailed, Role
from domain.events import Tenant
from entrypoints.cli import main
from entrypoints.container import build_container, close_databases
from entrypoints.settings import Settings
from tests.support import owner_engine_of


def test_create_then_revoke_an_api_key(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MFO_DATABASE_URL", migrated_url)
    tenant = Tenant(uuid4(), uuid4())
    ids = ["--client-account-id", str(tenant.client_account_id), "--engagement-id", str(tenant.engagement_id)]
    assert main(["api-key", "create", *ids, "--role", "viewer", "--name", "reports"]) == 0
    key = capsys.readouterr().out.strip()
    key_id = key.split("_")[1]

    async def stored_and_principal() -> tuple[list[str], object]:
        container = build_container(Settings().with_database_url(migrated_url))
        try:
            async with owner_engine_of(container).connect() as connection:
                rows = await connection.execute(text("SELECT * FROM api_keys WHERE key_id = :id"), {"id": key_id})
                values = [str(v) for v in rows.one()]
            return values, await container.api_key_store().authenticate(key)
        finally:
            await owner_engine_of(container).dispose()

    values, principal = asyncio.run(stored_and_principal())
    assert key not in values and key_hash(key) in values
    assert (principal.tenant, principal.role, principal.subject) == (tenant, Role.VIEWER, "api-key:reports")

    assert main(["api-key", "revoke", key_id]) == 0
    assert main(["api-key", "revoke", key_id]) == 1
    with pytest.raises(AuthenticationFailed, match="revoked"):
        asyncio.run(stored_and_principal())


def test_create_a_platform_api_key(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MFO_DATABASE_URL", migrated_url)
    assert main(["api-key", "create", "--platform", "--name", "prometheus"]) == 0
    out = capsys.readouterr()
    key = out.out.strip()
    assert "the platform (no tenant)" in out.err

    async def stored_and_principal() -> tuple[tuple, object]:
        container = build_container(Settings().with_database_url(migrated_url))
        try:
            async with owner_engine_of(container).connect() as connection:
                row = await connection.execute(
                    text("SELECT role, client_account_id, engagement_id FROM api_keys WHERE key_id = :id"),
                    {"id": key.split("_")[1]},
                )
                stored = tuple(row.one())
            return stored, await container.api_key_store().authenticate(key)
        finally:
            await owner_engine_of(container).dispose()
            await close_databases(container)

    stored, principal = asyncio.run(stored_and_principal())
    assert stored == ("platform", None, None)
    assert (principal.tenant, principal.role, principal.subject) == (None, Role.PLATFORM, "api-key:prometheus")
    with pytest.raises(SystemExit, match="--platform takes no tenant"):
        main(["api-key", "create", "--platform", "--role", "admin", "--name", "x"])


async def test_the_database_refuses_a_platform_key_with_a_tenant_and_a_tenant_key_without(container) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    insert = text(
        "INSERT INTO api_keys (key_id, key_hash, client_account_id, engagement_id, role, name, created_at) "
        "VALUES (:id, 'h', :account, :engagement, :role, 'n', now())"
    )
    for role, account in (("platform", uuid4()), ("admin", None)):
        with pytest.raises(IntegrityError, match="platform_key_has_no_tenant"):
            async with owner_engine_of(container).begin() as connection:
                values = {"id": uuid4().hex[:16], "account": account, "engagement": account, "role": role}
                await connection.execute(insert, values)
