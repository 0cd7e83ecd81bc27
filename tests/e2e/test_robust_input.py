"""Classes of client input that once reached a 5xx on a production-mode app, each now a clear 4xx problem.

Every request here goes to an app in production auth mode, with a bearer token signed with the tests' secret:
what a deployed server sees. Each test covers one class (methods, cursors and numbers, credentials, static paths,
conventions), over every route of the app where the class applies.
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
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.events import Tenant
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import ApiSettings, AuthSettings, Settings
from tests.support import (
    DISCOVERY_CSV,
    DISCOVERY_INPUTS,
    TEST_JWT_SECRET,
    asgi_client,
    auth_headers,
    completed_flow,
)
from tests.support import headers as dev_headers

PROBLEM = "application/problem+json"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "BREW")
HEADER_COUNT_LIMIT = 40
HEADER_BYTES_LIMIT = 4096


@pytest.fixture(scope="module")
def production_app(settings: Settings, container: Container) -> Any:
    api = dataclasses.replace(ApiSettings(), max_header_count=HEADER_COUNT_LIMIT, max_header_bytes=HEADER_BYTES_LIMIT)
    production = dataclasses.replace(
        settings, api=api, auth=AuthSettings(mode="production", jwt_secret=TEST_JWT_SECRET)
    )
    return create_app(production, container)


@pytest.fixture
async def api(production_app: Any) -> AsyncIterator[Any]:
    async with asgi_client(production_app) as client:
        yield client


@pytest.fixture
async def flow_id(api: Any, tenant: Tenant) -> str:
    body = {"flow_type": "discovery", "name": "robust", "configuration": {"data": DISCOVERY_CSV}}
    response = await api.post("/api/v1/flows", json=body, headers=auth_headers(tenant))
    assert response.status_code == 201, response.text
    return response.json()["flow_id"]


def assert_problem(response: Any, status: int | tuple[int, ...], *words: str) -> dict[str, Any]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.request.method, response.request.url, response.text[:500])
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    problem = response.json()
    for word in words:
        assert word.lower() in problem["detail"].lower(), (word, problem["detail"])
    return problem


def served_methods(app: Any) -> list[tuple[str, set[str]]]:
    """Every path template of the app and the methods its handlers serve (OPTIONS, added by Litestar, left out)."""
    found = []
    for route in app.routes:
        methods = {m for handler in getattr(route, "route_handlers", []) for m in handler.http_methods}
        found.append((route.path, methods - {"OPTIONS"}))
    return found


def concrete(path: str, flow_id: str) -> str:
    def value(match: re.Match[str]) -> str:
        return flow_id if match.group(1) == "flow_id" else "index.html"

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


# 1. Methods a route does not serve, and HEAD


async def test_every_unserved_method_on_every_route_is_405_with_allow(
    api: Any, production_app: Any, tenant: Tenant, flow_id: str
) -> None:
    routes = served_methods(production_app)
    assert any(path.startswith("/api/v1/unified-discovery/flows") for path, _ in routes)
    assert any(path.startswith("/dashboard") for path, _ in routes)
    for path, served in routes:
        url = concrete(path, flow_id)
        for method in METHODS:
            if method in served or method in ("OPTIONS", "HEAD"):
                continue
            response = await api.request(method, url, headers=auth_headers(tenant))
            assert_problem(response, 405)
            allowed = {m.strip() for m in response.headers["allow"].split(",")}
            assert served <= allowed, (method, url, allowed)
            if "GET" in served:
                assert "HEAD" in allowed, (method, url, allowed)


async def test_options_is_answered_on_every_route(api: Any, production_app: Any, tenant: Tenant, flow_id: str) -> None:
    for path, _ in served_methods(production_app):
        response = await api.options(concrete(path, flow_id), headers=auth_headers(tenant))
        assert response.status_code < 500, (path, response.text)
        if path.startswith(("/api/v1/discovery/flows", "/api/v1/unified-discovery/flows")):
            assert "Deprecation" in response.headers, path


async def test_head_on_a_get_route_answers_as_get_does_without_a_body(
    api: Any, production_app: Any, tenant: Tenant, flow_id: str
) -> None:
    for path, served in served_methods(production_app):
        if "GET" not in served or path.startswith("/api/v1/admin/consistency"):
            continue  # (the audit is slow; it is a GET like the others)
        url = concrete(path, flow_id)
        got = await api.get(url, headers=auth_headers(tenant))
        head = await api.head(url, headers=auth_headers(tenant))
        assert head.status_code == got.status_code, (url, head.status_code, got.status_code)
        assert head.content == b"", url
        assert head.headers.get("content-type") == got.headers.get("content-type"), url
        if got.status_code == 200 and "etag" in got.headers:
            assert head.headers["etag"] == got.headers["etag"], url
    anonymous = await api.head(f"/api/v1/flows/{flow_id}")
    assert anonymous.status_code == 401 and anonymous.content == b""


# 2. Opaque cursors and numeric parameters


def list_cursor(created_at: str, flow_id: Any = None) -> str:
    raw = f"{created_at}|{flow_id or uuid4()}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED_EVENT_CURSORS = ["²", "١", "٣٤", "①", "9" * 16, str(2**31), "-1", "+1", " 1", "1.0", "0x10", ""]
FORGED_LIST_CURSORS = [
    list_cursor("0001-01-01T00:00:00+14:00"),
    list_cursor("0001-01-01T00:00:00+00:00"),
    list_cursor("9999-12-31T23:59:59-14:00"),
    list_cursor("9999-12-31T23:59:59.999999-23:59"),
    list_cursor("9999-12-31T23:59:59+00:00"),
    list_cursor("2026-01-01T00:00:00+00:00", "not-a-uuid"),
    list_cursor("2026-01-01T00:00:00"),
    "²",
    "%00",
    base64.urlsafe_b64encode(b"\x00|\x00").decode(),
]


async def test_forged_event_cursors_and_limits_are_400(api: Any, tenant: Tenant, flow_id: str) -> None:
    h = auth_headers(tenant)
    for cursor in FORGED_EVENT_CURSORS:
        response = await api.get(f"/api/v1/flows/{flow_id}/events", params={"cursor": cursor}, headers=h)
        assert_problem(response, 400, "cursor")
    for limit in ("²", "١", "99999999999999999999999", "-0", "1e3", str(2**31)):
        for url in ("/api/v1/flows", f"/api/v1/flows/{flow_id}/events", "/api/v1/discovery/flows/active"):
            assert_problem(await api.get(url, params={"limit": limit}, headers=h), 400, "limit")
    ok = await api.get(f"/api/v1/flows/{flow_id}/events", params={"cursor": "0", "limit": "1"}, headers=h)
    assert ok.status_code == 200 and ok.json()["items"][0]["version"] == 1, ok.text


async def test_forged_list_cursors_are_400(api: Any, tenant: Tenant, flow_id: str) -> None:
    h = auth_headers(tenant)
    for url in ("/api/v1/flows", "/api/v1/discovery/flows/active", "/api/v1/unified-discovery/flows/active"):
        for cursor in FORGED_LIST_CURSORS:
            assert_problem(await api.get(url, params={"cursor": cursor}, headers=h), 400, "cursor")


async def test_if_match_takes_ascii_digits_only(api: Any, tenant: Tenant, flow_id: str) -> None:
    h = auth_headers(tenant)
    for value in ('"١"', "١", '"²"', '"1٢"', '"9999999999"', f'"{2**31}"'):
        raw = [*((k.encode(), v.encode()) for k, v in h.items()), (b"If-Match", value.encode())]
        response = await api.post(f"/api/v1/flows/{flow_id}/start", headers=raw)
        assert_problem(response, 400, "If-Match")
    assert (await api.post(f"/api/v1/flows/{flow_id}/start", headers={**h, "If-Match": '"1"'})).status_code == 200


# 3. Flow configuration that breaks a phase


@pytest.mark.parametrize(
    ("planning_configuration", "field"),
    [({"start_date": "9999-12-31"}, "start_date"), ({"start_date": "2027-01-04", "wave_weeks": 10**30}, "wave_weeks")],
    ids=["start-9999-12-31", "wave-weeks-1e30"],
)
async def test_a_configuration_that_would_break_the_schedule_is_refused_when_the_flow_is_created(
    client: Any, tenant: Tenant, planning_configuration: dict[str, Any], field: str
) -> None:
    """On the dev-mode app (the helpers name the tenant in headers): a configuration whose schedule could not be
    computed is a 422 naming the field, not a flow that would fail (or answer 500) on every execute. A plan whose
    dates pass year 9999 anyway fails its schedule phase (tests/unit/test_flow_configuration.py)."""
    discovery = await completed_flow(client, tenant, "discovery", {"data": DISCOVERY_CSV}, DISCOVERY_INPUTS)
    review = {"recommendation_review": {"approved": True, "overrides": {}}}
    assessment = await completed_flow(client, tenant, "assessment", {"discovery_flow_id": discovery["flow_id"]}, review)
    configuration = {"assessment_flow_id": assessment["flow_id"], "wave_size": 1, **planning_configuration}
    body = {"flow_type": "planning", "name": "far", "configuration": configuration}
    created = await client.post("/api/v1/flows", json=body, headers=dev_headers(tenant))
    assert created.status_code == 422, created.text
    assert field in created.json()["detail"]


# 4. Credentials with absurd claim values


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed_token(claims_json: str) -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(claims_json.encode())
    signature = hmac.new(TEST_JWT_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


ABSURD_NUMBERS = [
    "1" + "0" * 400,
    "-" + "1" * 400,
    "1e400",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e308",
    str(2**63),
    "-1",
    "true",
    "false",
    '"1700000000"',
    "null",
    "[1]",
    "{}",
]


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
async def test_tokens_with_absurd_numeric_claims_are_401(api: Any, tenant: Tenant, claim: str) -> None:
    now = int(time.time())
    for value in ABSURD_NUMBERS:
        numbers = {"exp": str(now + 600), "iat": str(now - 10), claim: value}
        claims = {
            "sub": "absurd",
            "iss": "mfo",
            "aud": "mfo-api",
            "role": "admin",
            "client_account_id": str(tenant.client_account_id),
            "engagement_id": str(tenant.engagement_id),
        }
        text = json.dumps(claims)[:-1] + "".join(f', "{k}": {v}' for k, v in numbers.items()) + "}"
        response = await api.get("/api/v1/flows", headers={"Authorization": f"Bearer {signed_token(text)}"})
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")


# 5. Odd paths under the dashboard's static files


async def test_odd_dashboard_paths_are_404_or_400(api: Any) -> None:
    for path in (
        "%00",
        "index.html%00",
        "a%00b",
        "%0a",
        "%0d%0aX-Injected:%201",
        "%01",
        "%7f",
        "a" * 5000,
        "a/" * 3000,
        "%ff",
        "..%2f..%2fetc%2fpasswd",
        "%c0%ae%c0%ae/",
        "%e2%80%ae",
    ):
        for method in ("GET", "HEAD"):
            response = await api.request(method, f"/dashboard/{path}")
            assert response.status_code in (400, 404), (method, path, response.status_code)
    assert (await api.get("/dashboard/")).status_code == 200


# 6. Smaller conventions: 415, 431, truncated echoes, normalized idempotency targets


async def test_a_body_that_is_not_json_on_a_json_route_is_415(api: Any, tenant: Tenant, flow_id: str) -> None:
    body = json.dumps({"flow_type": "discovery", "name": "x", "configuration": {"data": DISCOVERY_CSV}})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        h = auth_headers(tenant, **{"Content-Type": content_type})
        for url in ("/api/v1/flows", f"/api/v1/flows/{flow_id}/input", "/api/v1/discovery/flows/initialize"):
            assert_problem(await api.post(url, content=body, headers=h), 415, "application/json")
    as_json = auth_headers(tenant, **{"Content-Type": "application/json; charset=utf-8"})
    assert (await api.post("/api/v1/flows", content=body, headers=as_json)).status_code == 201
    problem_json = auth_headers(tenant, **{"Content-Type": "application/merge-patch+json"})
    assert (await api.post("/api/v1/flows", content=body, headers=problem_json)).status_code == 201


async def test_too_many_or_too_large_request_headers_are_431(api: Any, tenant: Tenant) -> None:
    many = [("X-Filler-" + str(i), "x") for i in range(HEADER_COUNT_LIMIT + 1)]
    response = await api.get("/api/v1/flows", headers=[*auth_headers(tenant).items(), *many])
    assert_problem(response, 431, str(HEADER_COUNT_LIMIT))
    large = {**auth_headers(tenant), "X-Filler": "x" * HEADER_BYTES_LIMIT}
    assert_problem(await api.get("/api/v1/flows", headers=large), 431, str(HEADER_BYTES_LIMIT))
    assert_problem(await api.get("/health", headers=large), 431)
    assert (await api.get("/api/v1/flows", headers=auth_headers(tenant))).status_code == 200


async def test_problem_details_echo_at_most_a_short_excerpt_of_client_input(api: Any, tenant: Tenant) -> None:
    h = auth_headers(tenant)
    long = "z" * 5000
    answers = [
        await api.get(f"/api/v1/flows/{long}", headers=h),
        await api.get("/api/v1/flows", params={"status": long}, headers=h),
        await api.get("/api/v1/flows", params={"cursor": long[:500]}, headers=h),
        await api.get("/api/v1/flows", params={"flow_type": long}, headers=h),
        await api.post("/api/v1/flows", json={"flow_type": long, "name": "x"}, headers=h),
        await api.post("/api/v1/flows", json={"flow_type": "discovery", "name": "x", long: 1}, headers=h),
        await api.post(f"/api/v1/flows/{uuid4()}/execute", json={"phase": long}, headers=h),
    ]
    for response in answers:
        problem = assert_problem(response, (400, 404, 422))
        assert long[:101] not in json.dumps(problem), (response.request.url, problem)


async def test_an_idempotent_retry_naming_the_flow_in_another_case_is_the_same_request(
    api: Any, tenant: Tenant, flow_id: str
) -> None:
    key = {"Idempotency-Key": str(uuid4())}
    first = await api.post(f"/api/v1/flows/{flow_id}/start", headers=auth_headers(tenant, **key))
    assert first.status_code == 200, first.text
    upper = str(UUID(flow_id)).upper()
    retry = await api.post(f"/api/v1/flows/{upper}/start", headers=auth_headers(tenant, **key))
    assert retry.status_code == 200, retry.text
    assert retry.headers.get("idempotent-replayed") == "true"
    assert retry.content == first.content
