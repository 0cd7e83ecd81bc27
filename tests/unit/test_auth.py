"""Roles, JWT minting and verification, API key parsing, and the ``mfo token`` command."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest

from adapters.auth import JwtCodec
from adapters.auth.api_keys import key_hash, key_id_of, new_key
from domain.auth import TENANT_ROLES, AuthenticationFailed, Principal, Role
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


def test_the_platform_role_stands_beside_the_tenant_roles() -> None:
    assert Role.PLATFORM.allows(Role.PLATFORM)
    assert not any(Role.PLATFORM.allows(role) for role in TENANT_ROLES)
    assert not any(role.allows(Role.PLATFORM) for role in TENANT_ROLES)
    with pytest.raises(ValueError) as raised:
        Principal("p", Role.PLATFORM, Tenant(uuid4(), uuid4()), "jwt")
    assert str(raised.value) == "the platform operator is not scoped to a tenant"
    assert Principal("p", Role.PLATFORM, None, "jwt").is_platform
    assert not Principal("a", Role.ADMIN, Tenant(uuid4(), uuid4()), "jwt").is_platform
    assert TENANT_ROLES == (Role.VIEWER, Role.OPERATOR, Role.ADMIN)


def test_a_platform_token_names_no_tenant() -> None:
    codec = JwtCodec(secret=SECRET)
    principal = codec.verify(codec.mint(None, Role.PLATFORM, "ops"))
    assert (principal.tenant, principal.role, principal.is_platform) == (None, Role.PLATFORM, True)
    with pytest.raises(ValueError):
        codec.mint(Tenant(uuid4(), uuid4()), Role.PLATFORM, "ops")
    with pytest.raises(ValueError):
        codec.mint(None, Role.ADMIN, "ops")


def claims_token(**claims: object) -> str:
    now = datetime.now(UTC)
    base = {"sub": "x", "iss": "mfo", "aud": "mfo-api", "iat": now, "exp": now + timedelta(minutes=5)}
    return jwt.encode({**base, **claims}, SECRET, algorithm="HS256")


def test_a_platform_token_with_a_tenant_and_a_tenant_token_without_one_are_refused() -> None:
    codec, tenant = JwtCodec(secret=SECRET), Tenant(uuid4(), uuid4())
    ids = {"client_account_id": str(tenant.client_account_id), "engagement_id": str(tenant.engagement_id)}
    with pytest.raises(AuthenticationFailed, match="platform token must not name"):
        codec.verify(claims_token(role="platform", **ids))
    with pytest.raises(AuthenticationFailed, match="missing the 'client_account_id' claim"):
        codec.verify(claims_token(role="admin"))
    assert codec.verify(claims_token(role="admin", **ids)).tenant == tenant


def test_mfo_token_platform_prints_a_platform_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MFO_AUTH_MODE", "production")
    monkeypatch.setenv("MFO_JWT_SECRET", SECRET)
    assert main(["token", "--platform", "--subject", "prometheus"]) == 0
    out = capsys.readouterr()
    principal = JwtCodec(secret=SECRET).verify(out.out.strip())
    assert (principal.tenant, principal.role, principal.subject) == (None, Role.PLATFORM, "prometheus")
    assert "platform" in out.err
    with pytest.raises(SystemExit, match="--platform takes no tenant"):
        main(["token", "--platform", "--role", "admin"])
