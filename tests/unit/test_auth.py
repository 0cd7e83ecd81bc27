"""Roles, JWT minting and verification, API key parsing, and the ``mfo token`` command."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from adapters.auth import JwtCodec
from adapters.auth.api_keys import key_hash, key_id_of, new_key
from domain.auth import AuthenticationFailed, Role
from domain.events import Tenant
from entrypoints.cli import main
from entrypoints.settings import DEV_JWT_SECRET, AuthSettings

SECRET = "unit-test-secret-0123456789abcdef0123456789"


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.ADMIN.allows(Role.VIEWER)
    assert Role.OPERATOR.allows(Role.VIEWER) and not Role.OPERATOR.allows(Role.ADMIN)
    assert not Role.VIEWER.allows(Role.OPERATOR) and Role.VIEWER.allows(Role.VIEWER)


def test_a_minted_token_verifies_to_its_tenant_role_and_subject() -> None:
    codec, tenant = JwtCodec(secret=SECRET), Tenant(uuid4(), uuid4())
    principal = codec.verify(codec.mint(tenant, Role.OPERATOR, "ada"))
    assert (principal.tenant, principal.role, principal.subject, principal.method) == (
        tenant,
        Role.OPERATOR,
        "ada",
        "jwt",
    )


def test_expiry_honours_the_leeway() -> None:
    tenant = Tenant(uuid4(), uuid4())
    issued = datetime.now(UTC) - timedelta(seconds=70)
    token = JwtCodec(secret=SECRET).mint(tenant, Role.VIEWER, "ada", ttl_seconds=60, now=issued)
    assert JwtCodec(secret=SECRET, leeway_seconds=30).verify(token).subject == "ada"
    with pytest.raises(AuthenticationFailed, match="expired"):
        JwtCodec(secret=SECRET, leeway_seconds=0).verify(token)


def test_a_remembered_token_still_expires_and_a_changed_one_is_verified_again() -> None:
    """Verified tokens are remembered (one signature check per token), never past their expiry and the leeway."""
    now = [time.time()]
    codec = JwtCodec(secret=SECRET, leeway_seconds=30, clock=lambda: now[0])
    tenant = Tenant(uuid4(), uuid4())
    token = codec.mint(tenant, Role.OPERATOR, "ada", ttl_seconds=60)
    assert codec.verify(token).subject == codec.verify(token).subject == "ada"
    header, payload, _ = token.split(".")
    forged_signature = JwtCodec(secret=SECRET + "-other").mint(tenant, Role.ADMIN, "eve").split(".")[2]
    with pytest.raises(AuthenticationFailed, match="not valid"):
        codec.verify(f"{header}.{payload}.{forged_signature}")
    now[0] += 60 + 29
    assert codec.verify(token).subject == "ada"
    now[0] += 2
    with pytest.raises(AuthenticationFailed, match="expired"):
        codec.verify(token)


def test_without_a_key_no_token_is_accepted_or_minted() -> None:
    codec = JwtCodec()
    with pytest.raises(AuthenticationFailed, match="no JWT key"):
        codec.verify(JwtCodec(secret=SECRET).mint(Tenant(uuid4(), uuid4()), Role.ADMIN, "x"))
    with pytest.raises(RuntimeError, match="no signing key"):
        codec.mint(Tenant(uuid4(), uuid4()), Role.ADMIN, "x")


def test_the_development_secret_exists_only_in_dev_mode() -> None:
    assert AuthSettings(mode="dev").hmac_secret == DEV_JWT_SECRET
    assert AuthSettings(mode="production").hmac_secret is None
    assert AuthSettings(mode="production", jwt_secret="s").hmac_secret == "s"


def test_auth_settings_refuse_an_unknown_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MFO_AUTH_MODE", "open")
    with pytest.raises(SystemExit, match="MFO_AUTH_MODE"):
        AuthSettings.from_env()


def test_api_keys_carry_a_public_id_and_a_secret() -> None:
    key_id, key = new_key()
    assert key.startswith(f"mfo_{key_id}_") and len(key) > 50
    assert key_id_of(key) == key_id
    assert key_hash(key) != key_hash(new_key()[1]) and len(key_hash(key)) == 64
    for malformed in ["mfo_", "mfo_short_x", "xyz_0123456789abcdef_x"]:
        with pytest.raises(AuthenticationFailed):
            key_id_of(malformed)


def test_mfo_token_prints_a_token_the_server_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MFO_AUTH_MODE", "production")
    monkeypatch.setenv("MFO_JWT_SECRET", SECRET)
    tenant = Tenant(uuid4(), uuid4())
    argv = ["token", "--client-account-id", str(tenant.client_account_id), "--engagement-id"]
    assert main([*argv, str(tenant.engagement_id), "--role", "viewer", "--subject", "ci"]) == 0
    principal = JwtCodec(secret=SECRET).verify(capsys.readouterr().out.strip())
    assert (principal.tenant, principal.role, principal.subject) == (tenant, Role.VIEWER, "ci")


def test_mfo_token_needs_a_key_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MFO_AUTH_MODE", "production")
    monkeypatch.delenv("MFO_JWT_SECRET", raising=False)
    monkeypatch.delenv("MFO_JWT_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("MFO_JWT_PRIVATE_KEY_FILE", raising=False)
    with pytest.raises(SystemExit, match="no signing key"):
        main(["token"])
