"""A discovery flow over HTTP, from create to completed, and the API's error contract."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from domain.events import Tenant
from tests.support import DISCOVERY_CSV, headers

PROBLEM = "application/problem+json"
DEEP: dict = {}
for _ in range(40):
    DEEP = {"d": DEEP}


async def create(client, tenant: Tenant, **body) -> dict:  # type: ignore[no-untyped-def]
    payload = {"flow_type": "discovery", "name": "dc", "configuration": {"data": DISCOVERY_CSV}, **body}
    response = await client.post("/api/v1/flows", json=payload, headers=headers(tenant))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_full_discovery_run(client, tenant: Tenant) -> None:
    h = headers(tenant)
    flow = await create(client, tenant)
    url = f"/api/v1/flows/{flow['flow_id']}"
    created = await client.get(url, headers=h)
    assert created.headers["etag"] == '"1"'
    statuses = []
    for step in ["start", "execute", "execute"]:
        response = await client.post(f"{url}/{step}", headers=h)
        assert response.status_code == 200, response.text
        statuses.append((response.json()["status"], response.json()["current_phase"]))
        assert response.headers["etag"] == f'"{response.json()["version"]}"'
    assert statuses[-1] == ("waiting_for_input", "field_mapping")
    proposal = response.json()["phase_results"]["field_mapping"]["proposed_mappings"]
    assert proposal["hostname"] == "name"
    kept_waiting = await client.post(f"{url}/input", json={"approved": False}, headers=h)
    assert kept_waiting.json()["status"] == "waiting_for_input"
    approved = await client.post(
        f"{url}/input",
        json={"approved": True, "mappings": {"hostname": "name", "type": "asset_type", "depends_on": "depends_on"}},
        headers=h,
    )
    assert approved.status_code == 200 and approved.json()["current_phase"] == "data_cleansing"
    for _ in range(4):
        response = await client.post(f"{url}/execute", headers=h)
        assert response.status_code == 200, response.text
    done = response.json()
    assert done["status"] == "completed" and done["progress_percent"] == 100
    assert done["phase_results"]["asset_inventory"]["by_type"] == {"database": 1, "server": 2}
    status = (await client.get(f"{url}/status", headers=h)).json()
    assert status["in_sync"] is True
    assert (status["master"]["status"], status["child"]["status"], status["child"]["projected_status"]) == (
        "completed",
        "complete",
        "completed",
    )
    events = (await client.get(f"{url}/events", headers=h)).json()["items"]
    assert [e["version"] for e in events] == list(range(1, done["version"] + 1))
    assert events[0]["operation"] == "create" and events[-1]["to_status"] == "completed"
    page = (await client.get(f"{url}/events?limit=4", headers=h)).json()
    rest = (await client.get(f"{url}/events?limit=100&cursor={page['next_cursor']}", headers=h)).json()
    assert [e["version"] for e in page["items"] + rest["items"]] == [e["version"] for e in events]
    deleted = await client.delete(url, headers=h)
    assert deleted.json()["status"] == "deleted"


async def test_an_illegal_transition_is_a_409_naming_both_states(client, tenant: Tenant) -> None:
    flow = await create(client, tenant)
    response = await client.post(f"/api/v1/flows/{flow['flow_id']}/pause", headers=headers(tenant))
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert (body["current_status"], body["requested_operation"]) == ("initialized", "pause")
    assert body["allowed_operations"] == ["start", "cancel", "delete"]
    assert "initialized" in body["detail"] and "pause" in body["detail"]


async def test_a_stale_if_match_is_a_409_and_a_fresh_one_works(client, tenant: Tenant) -> None:
    flow = await create(client, tenant)
    url = f"/api/v1/flows/{flow['flow_id']}"
    stale = await client.post(f"{url}/start", headers=headers(tenant, **{"If-Match": '"7"'}))
    assert stale.status_code == 409 and stale.json()["current_version"] == 1
    fresh = await client.post(f"{url}/start", headers=headers(tenant, **{"If-Match": '"1"'}))
    assert fresh.status_code == 200 and fresh.headers["etag"] == '"2"'
    bad = await client.post(f"{url}/pause", headers=headers(tenant, **{"If-Match": "yesterday"}))
    assert bad.status_code == 400


async def test_two_concurrent_conflicting_requests_one_wins_one_gets_409(client, tenant: Tenant) -> None:
    flow = await create(client, tenant)
    url = f"/api/v1/flows/{flow['flow_id']}"
    await client.post(f"{url}/start", headers=headers(tenant))
    responses = await asyncio.gather(
        client.post(f"{url}/pause", headers=headers(tenant)), client.post(f"{url}/pause", headers=headers(tenant))
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert (loser["current_status"], loser["requested_operation"]) == ("paused", "pause")
    final = (await client.get(url, headers=headers(tenant))).json()
    assert (final["status"], final["version"]) == ("paused", 3)


async def test_another_tenant_gets_404(client, tenant: Tenant, other_tenant: Tenant) -> None:
    flow = await create(client, tenant)
    url = f"/api/v1/flows/{flow['flow_id']}"
    for method, path in [("GET", ""), ("GET", "/status"), ("GET", "/events"), ("POST", "/start"), ("DELETE", "")]:
        response = await client.request(method, url + path, headers=headers(other_tenant))
        assert response.status_code == 404, (method, path)
        assert response.headers["content-type"].startswith(PROBLEM)
    listed = await client.get("/api/v1/flows", headers=headers(other_tenant))
    assert listed.json()["items"] == []


async def test_bad_requests_get_clear_problems(client, tenant: Tenant) -> None:
    h = headers(tenant)
    cases = [
        ("GET", "/api/v1/flows/not-a-uuid", None, h, 400),
        ("GET", "/api/v1/flows", None, {}, 400),
        ("GET", "/api/v1/flows", None, {**h, "X-Engagement-ID": "nope"}, 400),
        ("POST", "/api/v1/flows", {"flow_type": "nope", "name": "x"}, h, 422),
        ("POST", "/api/v1/flows", {"flow_type": "discovery"}, h, 422),
        ("POST", "/api/v1/flows", {"flow_type": "discovery", "name": "x", "extra": 1}, h, 422),
        ("POST", "/api/v1/flows", {"flow_type": "discovery", "name": ""}, h, 422),
        ("POST", "/api/v1/flows", [1, 2], h, 422),
        ("POST", "/api/v1/flows", {"flow_type": "discovery", "name": "nul\u0000"}, h, 422),
        ("POST", "/api/v1/flows", {"flow_type": "discovery", "name": "x", "configuration": {"a": "\u0000"}}, h, 422),
        ("POST", "/api/v1/flows", {"flow_type": "discovery", "name": "x", "configuration": DEEP}, h, 422),
        ("GET", "/api/v1/flows?limit=100000", None, h, 400),
        ("GET", "/api/v1/flows?status=sleeping", None, h, 400),
        ("GET", "/api/v1/flows?cursor=garbage", None, h, 400),
        ("GET", "/api/v1/flows?flow_type=nope", None, h, 422),
        ("GET", f"/api/v1/flows/{uuid4()}", None, h, 404),
        ("GET", "/api/v1/nothing-here", None, h, 404),
    ]
    for method, url, body, hdrs, expected in cases:
        response = await client.request(method, url, json=body, headers=hdrs)
        assert response.status_code == expected, (method, url, body, response.text)
        assert response.headers["content-type"].startswith(PROBLEM), url
        problem = response.json()
        assert problem["status"] == expected and problem["detail"] and problem["title"]
    broken = await client.post("/api/v1/flows", content=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]


async def test_bad_input_to_a_waiting_phase_is_422_and_changes_nothing(client, tenant: Tenant) -> None:
    h = headers(tenant)
    flow = await create(client, tenant)
    url = f"/api/v1/flows/{flow['flow_id']}"
    for step in ["start", "execute", "execute"]:
        await client.post(f"{url}/{step}", headers=h)
    before = (await client.get(url, headers=h)).json()
    response = await client.post(
        f"{url}/input", json={"approved": True, "mappings": {"hostname": "nonsense"}}, headers=h
    )
    assert response.status_code == 422 and "unknown target fields" in response.json()["detail"]
    assert (await client.get(url, headers=h)).json() == before


async def test_a_phase_failure_then_retry(client, tenant: Tenant) -> None:
    h = headers(tenant)
    flow = await create(client, tenant, configuration={})  # valid, but nothing to import: the first phase fails
    url = f"/api/v1/flows/{flow['flow_id']}"
    await client.post(f"{url}/start", headers=h)
    failed = (await client.post(f"{url}/execute", headers=h)).json()
    assert failed["status"] == "failed" and "no 'data'" in failed["error"]
    retried = await client.post(f"{url}/retry", headers=h)
    assert retried.status_code == 200 and retried.json()["status"] == "failed"
    assert retried.json()["version"] == failed["version"] + 2  # the retry's claim, then its completion


async def test_flow_types_health_and_schema(client) -> None:
    types = (await client.get("/api/v1/flow-types")).json()["items"]
    discovery = next(t for t in types if t["name"] == "discovery")
    assert discovery["phases"][0] == "data_import" and discovery["input_phases"] == ["field_mapping"]
    health = await client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/flows/{flow_id}/pause" in schema["paths"]
