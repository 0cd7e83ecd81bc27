"""Bad input over HTTP, on an app with small configured limits: every case is a clear 4xx problem, never a 500."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest

from domain.events import Tenant
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import ApiSettings, Settings
from tests.support import DISCOVERY_CSV, asgi_client, headers

PROBLEM = "application/problem+json"
BODY_LIMIT = 4096
PAGE_LIMIT = 20


@pytest.fixture(scope="module")
def limited_app(settings: Settings, container: Container) -> Any:
    api = dataclasses.replace(ApiSettings(), max_body_bytes=BODY_LIMIT, max_page_size=PAGE_LIMIT, default_page_size=5)
    return create_app(dataclasses.replace(settings, api=api), container)


@pytest.fixture
async def client(limited_app: Any) -> AsyncIterator[Any]:
    async with asgi_client(limited_app) as client:
        yield client


def assert_problem(response: Any, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    for word in words:
        assert word.lower() in problem["detail"].lower(), (word, problem["detail"])
    return problem


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def new_flow(client: Any, tenant: Tenant) -> str:
    body = {"flow_type": "discovery", "name": "limits", "configuration": {"data": DISCOVERY_CSV}}
    response = await client.post("/api/v1/flows", json=body, headers=headers(tenant))
    assert response.status_code == 201, response.text
    return response.json()["flow_id"]


async def test_a_body_over_the_configured_limit_is_413(client: Any, tenant: Tenant) -> None:
    filler = "x" * BODY_LIMIT
    body = json.dumps({"flow_type": "discovery", "name": "big", "configuration": {"data": filler}}).encode()
    h = headers(tenant, **{"Content-Type": "application/json"})
    assert_problem(await client.post("/api/v1/flows", content=body, headers=h), 413)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while streaming too
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    assert_problem(await client.post("/api/v1/flows", content=chunks(), headers=h), 413)
    just_fits = json.dumps({"flow_type": "discovery", "name": "fits", "configuration": {"data": "y"}}).encode()
    assert (await client.post("/api/v1/flows", content=just_fits, headers=h)).status_code == 201
    flow = await new_flow(client, tenant)
    huge_input = json.dumps({"approved": True, "mappings": {"k": filler}}).encode()
    assert_problem(await client.post(f"/api/v1/flows/{flow}/input", content=huge_input, headers=h), 413)


async def test_deep_json_is_refused(client: Any, tenant: Tenant) -> None:
    h = headers(tenant, **{"Content-Type": "application/json"})
    deep_config = '{"flow_type": "discovery", "name": "deep", "configuration": {"a": ' + nested(40) + "}}"
    assert_problem(await client.post("/api/v1/flows", content=deep_config, headers=h), 422, "nested deeper")
    flow = await new_flow(client, tenant)
    for depth in (40, 1500):  # past the JSON decoder's own nesting limit too
        body = '{"approved": true, "mappings": {"a": ' + nested(depth) + "}}"
        response = await client.post(f"/api/v1/flows/{flow}/input", content=body, headers=h)
        assert response.status_code in (400, 422), (depth, response.text)
        assert_problem(response, response.status_code)
    way_too_deep = '{"flow_type": "discovery", "name": "deep", "configuration": {"a": ' + nested(1500) + "}}"
    response = await client.post("/api/v1/flows", content=way_too_deep, headers=h)
    # 400 when the decoder's recursion limit stops it, 422 when the process allows that depth (the limit is global)
    assert_problem(response, response.status_code, "nested")
    assert response.status_code in (400, 422), response.text


async def test_bad_utf8_and_malformed_json_are_400(client: Any, tenant: Tenant) -> None:
    h = headers(tenant, **{"Content-Type": "application/json"})
    flow = await new_flow(client, tenant)
    bad = [
        b'{"flow_type": "discovery", "name": "\xff\xfe"}',
        b'{"flow_type": "discovery", "name": "\xc3\x28"}',
        b'{"flow_type": "discovery", "name": "x"',
        b"\xef\xbb\xbf\xff",
    ]
    for body in bad:
        assert_problem(await client.post("/api/v1/flows", content=body, headers=h), 400, "json")
        assert_problem(await client.post(f"/api/v1/flows/{flow}/input", content=body, headers=h), 400, "json")
        assert_problem(await client.post(f"/api/v1/flows/{flow}/execute", content=body, headers=h), 400, "json")


async def test_page_sizes_outside_the_configured_range_are_400(client: Any, tenant: Tenant) -> None:
    h = headers(tenant)
    flow = await new_flow(client, tenant)
    for url in ("/api/v1/flows", f"/api/v1/flows/{flow}/events", "/api/v1/discovery/flows/active"):
        assert (await client.get(f"{url}?limit={PAGE_LIMIT}", headers=h)).status_code == 200, url
        for limit in (PAGE_LIMIT + 1, 10**6, 10**40, 0, -1, "many"):
            assert_problem(await client.get(f"{url}?limit={limit}", headers=h), 400, "limit")
    default = (await client.get("/api/v1/flows", headers=h)).json()
    assert len(default["items"]) <= 5


async def test_unknown_fields_are_422_naming_the_field(client: Any, tenant: Tenant) -> None:
    h = headers(tenant)
    flow = await new_flow(client, tenant)
    cases = [
        ("/api/v1/flows", {"flow_type": "discovery", "name": "x", "surprise": 1}),
        (f"/api/v1/flows/{flow}/execute", {"phase": "data_import", "surprise": 1}),
        ("/api/v1/discovery/flows/initialize", {"flow_name": "x", "surprise": 1}),
    ]
    for url, body in cases:
        assert_problem(await client.post(url, json=body, headers=h), 422, "surprise")


async def test_oversized_headers_and_ids_are_400(client: Any, tenant: Tenant) -> None:
    h = headers(tenant)
    assert_problem(await client.get(f"/api/v1/flows/{'f' * 5000}", headers=h), 400, "uuid")
    body = {"flow_type": "discovery", "name": "x"}
    assert_problem(await client.post("/api/v1/flows", json=body, headers={**h, "X-Actor": "a" * 201}), 400, "X-Actor")
    keyed = headers(tenant, **{"Idempotency-Key": "k" * 256})
    assert_problem(await client.post(f"/api/v1/flows/{uuid4()}/start", headers=keyed), 400)
    assert_problem(await client.get(f"/api/v1/flows?cursor={'c' * 600}", headers=h), 400, "cursor")
