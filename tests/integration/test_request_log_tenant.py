"""The request log's ``tenant`` is the authenticated credential's, never a header's outside development mode."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from uuid import uuid4

import pytest

from domain.auth import Role
from domain.events import Tenant
from entrypoints.http.app import create_app
from entrypoints.settings import AuthSettings
from tests.observing import JsonLines
from tests.support import DISCOVERY_CSV, TEST_JWT_SECRET, asgi_client, auth_headers, headers, platform_headers


@pytest.fixture
def json_lines() -> Iterator[JsonLines]:
    with JsonLines.capture() as lines:
        yield lines


def label(tenant: Tenant) -> str:
    return f"{tenant.client_account_id}/{tenant.engagement_id}"


def lines_of(json_lines: JsonLines, request_id: str) -> list[dict]:
    return [line for line in json_lines.lines if line.get("request_id") == request_id]


async def test_production_logs_the_tokens_tenant_not_the_forged_headers(
    settings, container, tenant: Tenant, json_lines: JsonLines
) -> None:  # type: ignore[no-untyped-def]
    production = dataclasses.replace(settings, auth=AuthSettings(mode="production", jwt_secret=TEST_JWT_SECRET))
    forged = headers(Tenant(uuid4(), uuid4()))
    body = {"flow_type": "discovery", "name": "logged", "configuration": {"data": DISCOVERY_CSV}}
    async with asgi_client(create_app(production, container)) as client:
        as_token = auth_headers(tenant, Role.OPERATOR, **forged, **{"X-Request-ID": "log-tenant-1"})
        assert (await client.post("/api/v1/flows", json=body, headers=as_token)).status_code == 201
        refused = await client.get("/api/v1/flows", headers={**forged, "X-Request-ID": "log-tenant-2"})
        assert refused.status_code == 401
        platform = await client.get("/metrics", headers=platform_headers(**forged, **{"X-Request-ID": "log-tenant-3"}))
        assert platform.status_code == 200

    created = lines_of(json_lines, "log-tenant-1")
    assert {line["message"] for line in created} >= {"operation finished", "request finished"}
    assert all(line["tenant"] == label(tenant) for line in created), created
    for request_id in ("log-tenant-2", "log-tenant-3"):  # no credential, or the platform's: no tenant at all
        (finished,) = [line for line in lines_of(json_lines, request_id) if line["message"] == "request finished"]
        assert "tenant" not in finished, finished


async def test_dev_mode_logs_the_tenant_its_headers_name(settings, container, tenant: Tenant, json_lines) -> None:  # type: ignore[no-untyped-def]
    async with asgi_client(create_app(settings, container)) as client:
        listed = await client.get("/api/v1/flows", headers=headers(tenant, **{"X-Request-ID": "log-tenant-dev"}))
        assert listed.status_code == 200
    (finished,) = [line for line in lines_of(json_lines, "log-tenant-dev") if line["message"] == "request finished"]
    assert finished["tenant"] == label(tenant)
