"""Authentication and roles in production mode, on every ``/api/v1`` route the app actually has (and every other
route that needs a credential, ``/metrics``).

The route list is read from the app itself, so a route added later is covered (and fails here if it lets a
caller without credentials, with too low a role, of another tenant, or the platform operator on a tenant's route
through).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.auth import JwtCodec
from domain.auth import TENANT_ROLES, Role
from domain.events import Tenant
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.http.auth import needs_credential
from entrypoints.settings import AuthSettings, DatabaseSettings, Settings
from tests.support import DISCOVERY_CSV, TEST_JWT_SECRET, asgi_client, auth_headers, platform_headers

PROBLEM = "application/problem+json"
PLATFORM_ROUTES = {
    ("GET", "/api/v1/admin/consistency/latest"),
    ("GET", "/api/v1/legacy/usage"),
    ("GET", "/metrics"),
}
"""Routes that look across tenants: only the platform operator may call them."""
TENANT_OR_PLATFORM_ROUTES = {("GET", "/api/v1/admin/consistency")}
"""A tenant's admin gets its own tenant's answer; the platform operator the system's."""


def credentialed_routes() -> list[tuple[str, str]]:
    """Every (method, path template) that needs a credential, of an app built as production builds it."""
    app = create_app(Settings(database=DatabaseSettings(url="postgresql+asyncpg://routes@127.0.0.1:1/none")))
    found = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not needs_credential(route.path, handler):
                continue
            for method in handler.http_methods:
                if method != "OPTIONS":
                    found.add((method, route.path))
    return sorted(found)


ROUTES = credentialed_routes()


def expected_role(method: str, path: str) -> Role:
    """The policy: platform routes need the platform operator; reads need a viewer, changes an operator, deletes
    and admin routes an admin."""
    if (method, path) in PLATFORM_ROUTES:
        return Role.PLATFORM
    if path.startswith("/api/v1/admin"):
        return Role.ADMIN
    if method == "DELETE":
        return Role.ADMIN
    if method in ("GET", "HEAD"):
        return Role.VIEWER
    return Role.OPERATOR


def body_for(method: str, path: str) -> Any:
    if method != "POST":
        return None
    if path.rstrip("/").endswith("/flows"):
        return {"flow_type": "discovery", "name": "auth", "configuration": {"data": DISCOVERY_CSV}}
    if path.endswith("/initialize"):
        return {"flow_name": "auth", "configuration": {"data": DISCOVERY_CSV}}
    if path.endswith("/input"):
        return {"approved": True, "mappings": {}}
    if path.endswith("/admin/flows/migrate"):
        return {"flow_type": "discovery", "from_version": 1, "to_version": 1, "dry_run": True}
    if path.endswith("/migrate"):
        return {"to_version": 1}
    return None


def url_for(path: str, flow_id: UUID) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(flow_id) if m.group(1) == "flow_id" else "x", path)


@pytest.fixture(scope="module")
def production_app(settings, container):  # type: ignore[no-untyped-def]
    production = dataclasses.replace(settings, auth=AuthSettings(mode="production", jwt_secret=TEST_JWT_SECRET))
    return create_app(production, container)


@pytest.fixture
async def api(production_app) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    async with asgi_client(production_app) as client:
        yield client


async def discovery_flow(container: Container, tenant: Tenant) -> Any:
    return await container.orchestrator().create_flow(
        tenant, "discovery", "auth", {"data": DISCOVERY_CSV}, actor="seed"
    )


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.json()


def test_the_route_list_is_the_apps() -> None:
    assert ("POST", "/api/v1/flows") in ROUTES and ("DELETE", "/api/v1/flows/{flow_id:str}") in ROUTES
    assert ("GET", "/api/v1/admin/consistency") in ROUTES and ("GET", "/metrics") in ROUTES
    assert set(ROUTES) >= PLATFORM_ROUTES | TENANT_OR_PLATFORM_ROUTES
    assert any(path.startswith("/api/v1/discovery/flows") for _, path in ROUTES)
    assert not any(path.startswith("/health") or path.startswith("/schema") for _, path in ROUTES)


CALLERS = [
    pytest.param(None, False, id="no-credentials"),
    *(
        pytest.param(role, other, id=f"{role}-{'other' if other else 'own'}-tenant")
        for role in TENANT_ROLES
        for other in (False, True)
    ),
    pytest.param(Role.PLATFORM, False, id="platform"),
]


@pytest.mark.parametrize(("role", "other_tenant_caller"), CALLERS)
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_every_route_for_every_role_and_tenant(
    api: Any,
    container: Container,
    tenant: Tenant,
    other_tenant: Tenant,
    method: str,
    path: str,
    role: Role | None,
    other_tenant_caller: bool,
) -> None:
    flow = await discovery_flow(container, tenant)
    caller = other_tenant if other_tenant_caller else tenant
    if role is None:
        request_headers = {}
    elif role is Role.PLATFORM:
        request_headers = platform_headers()
    else:
        request_headers = auth_headers(caller, role)
    response = await api.request(
        method, url_for(path, flow.flow_id), json=body_for(method, path), headers=request_headers
    )
    required = expected_role(method, path)
    after = await container.orchestrator().get_flow(tenant, flow.flow_id)
    platform_admitted = role is Role.PLATFORM and (method, path) in TENANT_OR_PLATFORM_ROUTES

    if role is None:
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert after.version == flow.version
    elif not role.allows(required) and not platform_admitted:
        body = assert_problem(response, 403)
        assert (body["role"], body["required_role"]) == (str(role), str(required))
        assert after.version == flow.version
    elif other_tenant_caller and "{flow_id" in path:
        assert_problem(response, 404)
        assert after.version == flow.version
    else:
        assert response.status_code < 500 and response.status_code not in (401, 403), response.text
        if other_tenant_caller:  # a tenant's admin audit included: it reads its own tenant only
            assert str(flow.flow_id) not in response.text
            assert after.version == flow.version


@pytest.mark.parametrize(
    "tamper",
    ["expired", "wrong-secret", "wrong-audience", "wrong-issuer", "alg-none", "unknown-role", "no-tenant", "garbage"],
)
async def test_a_bad_token_is_401_invalid_token(api: Any, tenant: Tenant, tamper: str) -> None:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": "mallory",
        "iss": "mfo",
        "aud": "mfo-api",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "role": "admin",
        "client_account_id": str(tenant.client_account_id),
        "engagement_id": str(tenant.engagement_id),
    }
    key, algorithm = TEST_JWT_SECRET, "HS256"
    if tamper == "expired":
        claims.update(iat=now - timedelta(hours=2), exp=now - timedelta(hours=1))
    elif tamper == "wrong-secret":
        key = "another-secret-of-a-decent-length-0123456789"
    elif tamper == "wrong-audience":
        claims["aud"] = "someone-else"
    elif tamper == "wrong-issuer":
        claims["iss"] = "someone-else"
    elif tamper == "unknown-role":
        claims["role"] = "root"
    elif tamper == "no-tenant":
        del claims["engagement_id"]
    token = "not.a.token" if tamper == "garbage" else jwt.encode(claims, key, algorithm=algorithm)
    if tamper == "alg-none":
        token = jwt.encode(claims, None, algorithm="none")
    response = await api.get("/api/v1/flows", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    "])
async def test_a_malformed_authorization_header_is_401(api: Any, value: str) -> None:
    assert_problem(await api.get("/api/v1/flow-types", headers={"Authorization": value}), 401)


async def test_tenant_headers_are_ignored_in_production(api: Any, container: Container, tenant: Tenant) -> None:
    victim = Tenant(uuid4(), uuid4())
    victims_flow = await discovery_flow(container, victim)
    spoofed = {"X-Client-Account-ID": str(victim.client_account_id), "X-Engagement-ID": str(victim.engagement_id)}
    assert_problem(await api.get(f"/api/v1/flows/{victims_flow.flow_id}", headers=spoofed), 401)
    as_tenant = auth_headers(tenant, Role.ADMIN, **spoofed)
    assert_problem(await api.get(f"/api/v1/flows/{victims_flow.flow_id}", headers=as_tenant), 404)
    created = await api.post("/api/v1/flows", json=body_for("POST", "/api/v1/flows"), headers=as_tenant)
    assert created.status_code == 201, created.text
    flow_id = UUID(created.json()["flow_id"])
    assert (await container.orchestrator().get_flow(tenant, flow_id)).tenant == tenant


async def test_the_actor_is_the_tokens_subject(api: Any, tenant: Tenant) -> None:
    h = auth_headers(tenant, Role.OPERATOR, subject="ada@example.com", **{"X-Actor": "someone-else"})
    created = await api.post("/api/v1/flows", json=body_for("POST", "/api/v1/flows"), headers=h)
    events = (await api.get(f"/api/v1/flows/{created.json()['flow_id']}/events", headers=h)).json()["items"]
    assert [e["actor"] for e in events] == ["ada@example.com"]


async def test_api_keys_authenticate_until_revoked(api: Any, container: Container, tenant: Tenant) -> None:
    store = container.api_key_store()
    viewer = await store.create(tenant, Role.VIEWER, "dashboard")
    operator = await store.create(tenant, Role.OPERATOR, "pipeline")
    flow = await discovery_flow(container, tenant)
    url = f"/api/v1/flows/{flow.flow_id}"
    assert (await api.get(url, headers={"Authorization": f"Bearer {viewer.key}"})).status_code == 200
    assert (await api.get(url, headers={"X-API-Key": viewer.key})).status_code == 200
    assert_problem(await api.post(f"{url}/start", headers={"X-API-Key": viewer.key}), 403)
    started = await api.post(f"{url}/start", headers={"X-API-Key": operator.key})
    assert started.status_code == 200 and started.json()["status"] == "running"
    events = (await api.get(f"{url}/events", headers={"X-API-Key": operator.key})).json()["items"]
    assert events[-1]["actor"] == "api-key:pipeline"
    tampered = operator.key[:-4] + ("AAAA" if not operator.key.endswith("AAAA") else "BBBB")
    assert_problem(await api.get(url, headers={"X-API-Key": tampered}), 401)
    assert_problem(await api.get(url, headers={"X-API-Key": f"mfo_{'0' * 16}_nothing"}), 401)
    assert await store.revoke(viewer.key_id) is True
    assert_problem(await api.get(url, headers={"X-API-Key": viewer.key}), 401)


def hs256_signed_with(key: str, tenant: Tenant) -> str:
    """A token signed by hand (PyJWT itself refuses a PEM key as an HMAC secret)."""

    def b64(raw: bytes) -> bytes:
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    claims = {
        "sub": "mallory",
        "role": "admin",
        "iss": "mfo",
        "aud": "mfo-api",
        "iat": int(time.time()),
        "exp": int(time.time()) + 300,
        "client_account_id": str(tenant.client_account_id),
        "engagement_id": str(tenant.engagement_id),
    }
    signing_input = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + b"." + b64(json.dumps(claims).encode())
    signature = hmac.new(key.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(signature)).decode()


async def test_rs256_tokens_and_no_algorithm_confusion(
    settings: Settings, container: Container, tenant: Tenant
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    rs256 = dataclasses.replace(settings, auth=AuthSettings(mode="production", jwt_public_key=public_pem))
    from entrypoints.container import build_container, close_databases

    rs_container = build_container(rs256)
    try:
        async with asgi_client(create_app(rs256, rs_container)) as client:
            token = JwtCodec(private_key=private_pem).mint(tenant, Role.VIEWER, "rs")
            assert (await client.get("/api/v1/flows", headers={"Authorization": f"Bearer {token}"})).status_code == 200
            hs256 = JwtCodec(secret=TEST_JWT_SECRET).mint(tenant, Role.VIEWER, "hs")
            assert_problem(await client.get("/api/v1/flows", headers={"Authorization": f"Bearer {hs256}"}), 401)
            forged = hs256_signed_with(public_pem, tenant)  # the public key used as an HMAC secret
            assert_problem(await client.get("/api/v1/flows", headers={"Authorization": f"Bearer {forged}"}), 401)
    finally:
        await close_databases(rs_container)


async def test_dev_mode_takes_the_tenant_from_headers_and_still_honours_tokens(client: Any, tenant: Tenant) -> None:
    from tests.support import headers

    created = await client.post("/api/v1/flows", json=body_for("POST", "/api/v1/flows"), headers=headers(tenant))
    assert created.status_code == 201
    flow_id = created.json()["flow_id"]
    other = Tenant(uuid4(), uuid4())
    assert_problem(await client.get(f"/api/v1/flows/{flow_id}", headers=auth_headers(other, Role.ADMIN)), 404)
    assert (await client.get(f"/api/v1/flows/{flow_id}", headers=auth_headers(tenant, Role.VIEWER))).status_code == 200
    assert_problem(await client.delete(f"/api/v1/flows/{flow_id}", headers=auth_headers(tenant, Role.OPERATOR)), 403)


async def test_a_platform_api_key_reaches_only_the_platform_routes(
    api: Any, container: Container, tenant: Tenant
) -> None:
    store = container.api_key_store()
    platform = await store.create(None, Role.PLATFORM, "prometheus")
    key = {"Authorization": f"Bearer {platform.key}"}
    assert (await api.get("/metrics", headers=key)).status_code == 200
    assert (await api.get("/api/v1/legacy/usage", headers={"X-API-Key": platform.key})).status_code == 200
    assert (await api.get("/api/v1/admin/consistency?limit=1", headers=key)).json()["scope"] == "system"
    flow = await discovery_flow(container, tenant)
    refused = assert_problem(await api.get(f"/api/v1/flows/{flow.flow_id}", headers=key), 403)
    assert (refused["role"], refused["required_role"]) == ("platform", "viewer")
    with pytest.raises(ValueError):
        await store.create(tenant, Role.PLATFORM, "no")
    assert await store.revoke(platform.key_id) is True
    assert_problem(await api.get("/metrics", headers=key), 401)
