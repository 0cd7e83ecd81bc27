"""The legacy /api/v1/discovery/flows and /api/v1/unified-discovery/flows routes: shape, headers, errors, usage
counts, the 410 switch, and that they and the unified routes keep one and the same flow state."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import uuid4

import pytest
from dependency_injector import providers

from application.flow_type_registry import FlowTypeRegistry
from domain.events import Tenant
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import AuthSettings, DatabaseSettings, LegacySettings, Settings
from tests.fakes import FakeClock, FakeUnitOfWork, Store, fake_flow_type
from tests.support import DISCOVERY_CSV, asgi_client, headers, platform_headers

PROBLEM = "application/problem+json"
UNIFIED = "/api/v1/flows"
FAMILIES = {"discovery": "/api/v1/discovery/flows", "unified-discovery": "/api/v1/unified-discovery/flows"}
DEPRECATION = "@1793491200"  # 2026-11-01T00:00:00Z
SUNSET = "Wed, 30 Jun 2027 00:00:00 GMT"
LEGACY_FLOW_KEYS = {
    "success",
    "flow_id",
    "flow_name",
    "status",
    "current_phase",
    "progress_percentage",
    "phase_completion",
    "version",
    "error",
    "created_at",
    "updated_at",
}
PHASES = [
    "data_import",
    "field_mapping",
    "data_cleansing",
    "asset_inventory",
    "dependency_analysis",
    "tech_debt_assessment",
]

family = pytest.mark.parametrize("family", list(FAMILIES))


def assert_legacy_headers(response: Any, successor: str) -> None:
    assert response.headers.get("deprecation") == DEPRECATION, (response.status_code, dict(response.headers))
    assert response.headers.get("sunset") == SUNSET
    assert response.headers.get("link") == f'<{successor}>; rel="successor-version"'


def assert_legacy_flow(body: dict[str, Any], **expected: Any) -> None:
    assert set(body) == LEGACY_FLOW_KEYS, body
    assert body["success"] is True
    assert isinstance(body["progress_percentage"], float)
    assert list(body["phase_completion"]) == PHASES
    for key, value in expected.items():
        assert body[key] == value, (key, body)


def assert_problem(response: Any, status: int, successor: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert_legacy_headers(response, successor)
    return response.json()


async def initialize(client: Any, prefix: str, tenant: Tenant, **body: Any) -> dict[str, Any]:
    payload = {"flow_name": "dc", "configuration": {"data": DISCOVERY_CSV}, **body}
    response = await client.post(f"{prefix}/initialize", json=payload, headers=headers(tenant))
    assert response.status_code == 201, response.text
    assert_legacy_headers(response, UNIFIED)
    return response.json()


def every_route(prefix: str, flow_id: str) -> list[tuple[str, str, str]]:
    """(method, legacy URL, successor) for every legacy route."""
    flow = f"{UNIFIED}/{flow_id}"
    return [
        ("POST", f"{prefix}/initialize", UNIFIED),
        ("GET", f"{prefix}/active", UNIFIED),
        ("GET", f"{prefix}/{flow_id}/status", f"{flow}/status"),
        ("POST", f"{prefix}/{flow_id}/execute", f"{flow}/execute"),
        ("POST", f"{prefix}/{flow_id}/pause", f"{flow}/pause"),
        ("POST", f"{prefix}/{flow_id}/resume", f"{flow}/resume"),
        ("POST", f"{prefix}/{flow_id}/retry", f"{flow}/retry"),
        ("DELETE", f"{prefix}/{flow_id}", flow),
    ]


# -- every route, its shape and its headers ------------------------------------------------------------------------


@family
async def test_every_route_answers_the_legacy_shape_with_the_deprecation_headers(
    client: Any, tenant: Tenant, family: str
) -> None:
    prefix, h = FAMILIES[family], headers(tenant)
    rows = [{"hostname": "web1", "type": "server"}, {"hostname": "db1", "type": "database"}]
    created = await initialize(client, prefix, tenant, configuration={"source": "cmdb"}, raw_data=rows)
    flow_id = created["flow_id"]
    assert_legacy_flow(created, status="running", current_phase="data_import", version=2, flow_name="dc", error=None)
    assert created["phase_completion"] == dict.fromkeys(PHASES, False)
    unified = (await client.get(f"{UNIFIED}/{flow_id}", headers=h)).json()
    assert unified["configuration"] == {"source": "cmdb", "rows": rows}
    assert (unified["flow_type"], unified["status"], unified["version"]) == ("discovery", "running", 2)

    active = await client.get(f"{prefix}/active", headers=h)
    assert active.status_code == 200
    assert_legacy_headers(active, UNIFIED)
    body = active.json()
    assert set(body) == {"success", "flows", "next_cursor"} and body["success"] is True
    assert [f["flow_id"] for f in body["flows"]] == [flow_id]
    assert_legacy_flow(body["flows"][0], status="running")

    status = await client.get(f"{prefix}/{flow_id}/status", headers=h)
    assert status.status_code == 200 and status.headers["etag"] == '"2"'
    assert_legacy_headers(status, f"{UNIFIED}/{flow_id}/status")
    status_body = status.json()
    assert set(status_body) == LEGACY_FLOW_KEYS | {"child_status", "in_sync"}
    assert (status_body["status"], status_body["child_status"], status_body["in_sync"]) == (
        "running",
        "in_progress",
        True,
    )

    executed = await client.post(f"{prefix}/{flow_id}/execute", headers=h)  # claimed (v3) and completed (v4)
    assert executed.status_code == 200 and executed.headers["etag"] == '"4"'
    assert executed.headers["preference-applied"] == "wait=30"
    assert_legacy_headers(executed, f"{UNIFIED}/{flow_id}/execute")
    assert_legacy_flow(executed.json(), status="running", current_phase="field_mapping", version=4)
    assert executed.json()["phase_completion"]["data_import"] is True
    assert executed.json()["progress_percentage"] > 0

    paused = await client.post(f"{prefix}/{flow_id}/pause", headers=headers(tenant, **{"If-Match": '"4"'}))
    assert paused.status_code == 200 and paused.headers["etag"] == '"5"'
    assert_legacy_headers(paused, f"{UNIFIED}/{flow_id}/pause")
    assert_legacy_flow(paused.json(), status="paused", version=5)

    resumed = await client.post(f"{prefix}/{flow_id}/resume", headers=h)
    assert resumed.status_code == 200
    assert_legacy_headers(resumed, f"{UNIFIED}/{flow_id}/resume")
    assert_legacy_flow(resumed.json(), status="running", version=6)

    waiting = await client.post(f"{prefix}/{flow_id}/execute", json={"phase": "field_mapping"}, headers=h)
    assert waiting.status_code == 200
    assert_legacy_flow(waiting.json(), status="waiting_for_input", current_phase="field_mapping", version=8)

    deleted = await client.delete(f"{prefix}/{flow_id}", headers=h)
    assert deleted.status_code == 200 and deleted.headers["etag"] == '"9"'
    assert_legacy_headers(deleted, f"{UNIFIED}/{flow_id}")
    assert_legacy_flow(deleted.json(), status="deleted", version=9)
    assert (await client.get(f"{prefix}/active", headers=h)).json()["flows"] == []


@family
async def test_retry_reruns_a_failed_phase(client: Any, tenant: Tenant, family: str) -> None:
    prefix, h = FAMILIES[family], headers(tenant)
    flow_id = (await initialize(client, prefix, tenant, configuration={}))["flow_id"]
    failed = await client.post(f"{prefix}/{flow_id}/execute", headers=h)  # claimed (v3), failed (v4)
    assert_legacy_flow(failed.json(), status="failed", current_phase="data_import", version=4)
    assert "no 'data'" in failed.json()["error"]
    active = (await client.get(f"{prefix}/active", headers=h)).json()["flows"]
    assert [f["flow_id"] for f in active] == [flow_id]  # a failed flow is still active
    retried = await client.post(f"{prefix}/{flow_id}/retry", headers=headers(tenant, **{"If-Match": '"4"'}))
    assert retried.status_code == 200 and retried.headers["etag"] == '"6"'
    assert_legacy_headers(retried, f"{UNIFIED}/{flow_id}/retry")
    assert_legacy_flow(retried.json(), status="failed", version=6)


@family
async def test_active_lists_only_active_flows_and_pages(client: Any, tenant: Tenant, family: str) -> None:
    prefix, h = FAMILIES[family], headers(tenant)
    ids = [(await initialize(client, prefix, tenant, flow_name=f"dc-{i}"))["flow_id"] for i in range(3)]
    done = await client.post(f"{UNIFIED}", json={"flow_type": "discovery", "name": "not started"}, headers=h)
    await client.post(f"{UNIFIED}/{done.json()['flow_id']}/cancel", headers=h)
    first = (await client.get(f"{prefix}/active?limit=2", headers=h)).json()
    assert len(first["flows"]) == 2 and first["next_cursor"]
    rest = (await client.get(f"{prefix}/active", params={"limit": 2, "cursor": first["next_cursor"]}, headers=h)).json()
    assert rest["next_cursor"] is None
    assert sorted(f["flow_id"] for f in first["flows"] + rest["flows"]) == sorted(ids)
    too_big = await client.get(f"{prefix}/active?limit=100000", headers=h)
    assert assert_problem(too_big, 400, UNIFIED)["parameter"] == "limit"


# -- errors ----------------------------------------------------------------------------------------------------------


@family
async def test_another_tenant_gets_404_on_every_flow_route(
    client: Any, tenant: Tenant, other_tenant: Tenant, family: str
) -> None:
    prefix = FAMILIES[family]
    flow_id = (await initialize(client, prefix, tenant))["flow_id"]
    for method, url, successor in every_route(prefix, flow_id)[2:]:
        response = await client.request(method, url, headers=headers(other_tenant))
        assert assert_problem(response, 404, successor)["flow_id"] == flow_id, (method, url)
    listed = await client.get(f"{prefix}/active", headers=headers(other_tenant))
    assert listed.json()["flows"] == []
    mine = await client.get(f"{prefix}/{flow_id}/status", headers=headers(tenant))
    assert mine.json()["version"] == 2  # nothing changed


@family
async def test_illegal_transitions_and_stale_versions_are_409_problems_with_the_headers(
    client: Any, tenant: Tenant, family: str
) -> None:
    prefix, h = FAMILIES[family], headers(tenant)
    flow_id = (await initialize(client, prefix, tenant))["flow_id"]
    flow = f"{UNIFIED}/{flow_id}"
    resume = assert_problem(await client.post(f"{prefix}/{flow_id}/resume", headers=h), 409, f"{flow}/resume")
    assert (resume["current_status"], resume["requested_operation"]) == ("running", "resume")
    assert "pause" in resume["allowed_operations"]
    retry = assert_problem(await client.post(f"{prefix}/{flow_id}/retry", headers=h), 409, f"{flow}/retry")
    assert (retry["current_status"], retry["requested_operation"]) == ("running", "retry")
    stale = await client.post(f"{prefix}/{flow_id}/pause", headers=headers(tenant, **{"If-Match": '"1"'}))
    assert assert_problem(stale, 409, f"{flow}/pause")["current_version"] == 2
    await client.delete(f"{prefix}/{flow_id}", headers=h)
    again = assert_problem(await client.delete(f"{prefix}/{flow_id}", headers=h), 409, flow)
    assert (again["current_status"], again["requested_operation"]) == ("deleted", "delete")
    execute = await client.post(f"{prefix}/{flow_id}/execute", headers=h)
    assert assert_problem(execute, 409, f"{flow}/execute")["requested_operation"] == "execute_phase"


@family
async def test_bad_requests_are_problems_with_the_headers(client: Any, tenant: Tenant, family: str) -> None:
    prefix, h = FAMILIES[family], headers(tenant)
    flow_id = (await initialize(client, prefix, tenant))["flow_id"]
    flow = f"{UNIFIED}/{flow_id}"
    cases = [
        ("POST", f"{prefix}/initialize", {"flow_name": "x", "surprise": 1}, h, 422, UNIFIED),
        ("POST", f"{prefix}/initialize", {"flow_name": ""}, h, 422, UNIFIED),
        ("POST", f"{prefix}/initialize", {"flow_name": "x" * 201}, h, 422, UNIFIED),
        ("POST", f"{prefix}/initialize", {"configuration": {}}, h, 422, UNIFIED),
        ("POST", f"{prefix}/initialize", {"flow_name": "x", "raw_data": [1, 2]}, h, 422, UNIFIED),
        ("POST", f"{prefix}/initialize", {"flow_name": "x"}, {}, 400, UNIFIED),
        ("GET", f"{prefix}/active", None, {**h, "X-Engagement-ID": "nope"}, 400, UNIFIED),
        ("POST", f"{prefix}/{flow_id}/execute", {"phase": "nope"}, h, 422, f"{flow}/execute"),
        ("POST", f"{prefix}/{flow_id}/execute", {"step": 1}, h, 422, f"{flow}/execute"),
        ("POST", f"{prefix}/{flow_id}/pause", None, {**h, "If-Match": "yesterday"}, 400, f"{flow}/pause"),
        ("GET", f"{prefix}/not-a-uuid/status", None, h, 400, f"{UNIFIED}/not-a-uuid/status"),
        ("DELETE", f"{prefix}/{uuid4()}", None, h, 404, None),
        ("PUT", f"{prefix}/{flow_id}/pause", None, h, 405, f"{flow}/pause"),
        ("GET", f"{prefix}/initialize", None, h, 405, UNIFIED),
    ]
    for method, url, body, hdrs, expected, successor in cases:
        response = await client.request(method, url, json=body, headers=hdrs)
        successor = successor or f"{UNIFIED}/{url.rsplit('/', 1)[1]}"
        problem = assert_problem(response, expected, successor)
        assert problem["status"] == expected and problem["detail"] and problem["title"], (method, url, body)
    assert (await client.get(f"{prefix}/{flow_id}/status", headers=h)).json()["version"] == 2


async def test_a_flow_of_another_type_is_not_found_on_legacy_routes() -> None:
    """Legacy routes act on discovery flows only; the unified routes still see the other flow."""

    settings = Settings(
        database=DatabaseSettings(url="postgresql+asyncpg://unused@127.0.0.1:1/unused"),  # never connected to
        auth=AuthSettings(mode="dev"),
    )
    container, store = Container(settings=settings), Store()
    container.unit_of_work.override(providers.Factory(FakeUnitOfWork, store))
    container.flow_types.override(
        providers.Object(FlowTypeRegistry([fake_flow_type(), fake_flow_type(name="discovery")]))
    )
    container.clock.override(providers.Object(FakeClock()))
    tenant = Tenant(uuid4(), uuid4())
    other = await container.orchestrator().initialize_flow(tenant, "fake", "other", {}, actor="test")
    mine = await container.orchestrator().initialize_flow(tenant, "discovery", "mine", {}, actor="test")
    async with asgi_client(create_app(settings, container)) as client:
        h = headers(tenant)
        assert (await client.get(f"{UNIFIED}/{other.flow_id}", headers=h)).status_code == 200
        for prefix in FAMILIES.values():
            for method, url, successor in every_route(prefix, str(other.flow_id))[2:]:
                response = await client.request(method, url, headers=h)
                assert assert_problem(response, 404, successor)["flow_id"] == str(other.flow_id), (method, url)
            active = (await client.get(f"{prefix}/active", headers=h)).json()["flows"]
            assert [f["flow_id"] for f in active] == [str(mine.flow_id)]
            assert (await client.get(f"{prefix}/{mine.flow_id}/status", headers=h)).status_code == 200
        unchanged = (await client.get(f"{UNIFIED}/{other.flow_id}", headers=h)).json()
        assert (unchanged["status"], unchanged["version"]) == ("running", 2)


# -- usage counts --------------------------------------------------------------------------------------------------


async def usage(client: Any) -> dict[tuple[str, str, str], int]:
    response = await client.get("/api/v1/legacy/usage", headers=platform_headers())
    assert response.status_code == 200
    assert "deprecation" not in response.headers
    body = response.json()
    assert body["total"] == sum(item["count"] for item in body["items"])
    return {(i["family"], i["route"], i["method"]): i["count"] for i in body["items"]}


@family
async def test_usage_counts_each_call_per_family_route_and_method(client: Any, tenant: Tenant, family: str) -> None:
    prefix, h = FAMILIES[family], headers(tenant)
    other_family = next(f for f in FAMILIES if f != family)
    before = await usage(client)
    assert len([key for key in before if key[0] == family]) == 8  # every route is listed, called or not
    flow_id = (await initialize(client, prefix, tenant))["flow_id"]
    await client.get(f"{prefix}/{flow_id}/status", headers=h)
    await client.get(f"{prefix}/{flow_id}/status", headers=h)
    await client.post(f"{prefix}/{flow_id}/resume", headers=h)  # a 409 is a call too
    await client.post(f"{UNIFIED}/{flow_id}/pause", headers=h)  # the unified API is not counted
    after = await usage(client)
    delta = {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}
    assert delta == {
        (family, f"{prefix}/initialize", "POST"): 1,
        (family, f"{prefix}/{{flow_id}}/status", "GET"): 2,
        (family, f"{prefix}/{{flow_id}}/resume", "POST"): 1,
    }
    assert not any(key[0] == other_family for key in delta)


# -- switched off: 410 Gone ----------------------------------------------------------------------------------------


@family
async def test_with_legacy_disabled_every_route_is_410_naming_its_successor(
    settings: Settings, container: Container, tenant: Tenant, family: str
) -> None:
    prefix = FAMILIES[family]
    off = dataclasses.replace(settings, legacy=LegacySettings(enabled=False))
    app = create_app(off, container)
    flow_id = str(uuid4())
    async with asgi_client(app) as client:
        for method, url, successor in every_route(prefix, flow_id):
            for hdrs in (headers(tenant), {}):  # refused before the tenant, the body or the flow are looked at
                body = {"flow_name": "x"} if url.endswith("/initialize") else None
                response = await client.request(method, url, json=body, headers=hdrs)
                problem = assert_problem(response, 410, successor)
                assert problem["type"].endswith("legacy-route-gone"), problem
                assert problem["successor"] == successor and successor in problem["detail"]
        counts = await usage(client)
        assert counts[(family, f"{prefix}/{{flow_id}}", "DELETE")] == 2
        created = await client.post(UNIFIED, json={"flow_type": "discovery", "name": "dc"}, headers=headers(tenant))
        assert created.status_code == 201 and "deprecation" not in created.headers  # the unified API still works


def test_legacy_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = LegacySettings.from_env()
    assert defaults == LegacySettings() and defaults.enabled is True
    monkeypatch.setenv("MFO_LEGACY_ENABLED", "false")
    monkeypatch.setenv("MFO_LEGACY_DEPRECATED_AT", "2026-12-24")
    monkeypatch.setenv("MFO_LEGACY_SUNSET", "2027-01-31T12:00:00+01:00")
    legacy = Settings.from_env().legacy
    assert legacy.enabled is False
    assert int(legacy.deprecated_at.timestamp()) == 1798070400
    assert legacy.sunset.isoformat() == "2027-01-31T11:00:00+00:00"
    monkeypatch.setenv("MFO_LEGACY_ENABLED", "maybe")
    with pytest.raises(SystemExit):
        LegacySettings.from_env()


# -- legacy and unified keep one state -----------------------------------------------------------------------------


IDS_AND_TIMES = {"id", "flow_id", "run_id", "created_at", "updated_at", "occurred_at", "started_at"}
EXECUTED = ("execute_phase", "complete_phase")
"""The events of one executed phase: its claim, then its completion."""


def scrub(value: Any) -> Any:
    """``value`` without ids and timestamps, at any depth (a flow's own, and those of its stored mirrors)."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k not in IDS_AND_TIMES}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


async def views(client: Any, prefix: str, tenant: Tenant, flow_id: str) -> dict[str, Any]:
    """Every view of a flow, without what differs between two flows by nature (ids, timestamps, name, actors)."""
    h = headers(tenant)
    flow = (await client.get(f"{UNIFIED}/{flow_id}", headers=h)).json()
    flow.pop("name")
    status = (await client.get(f"{UNIFIED}/{flow_id}/status", headers=h)).json()
    events = (await client.get(f"{UNIFIED}/{flow_id}/events?limit=200", headers=h)).json()
    for event in events["items"]:
        event.pop("actor")
        event["data"].pop("trace", None)
    legacy = await client.get(f"{prefix}/{flow_id}/status", headers=h)
    assert legacy.status_code == 200, legacy.text
    assert_legacy_headers(legacy, f"{UNIFIED}/{flow_id}/status")
    legacy_status = legacy.json()
    legacy_status.pop("flow_name")
    return scrub({"flow": flow, "status": status, "events": events, "legacy_status": legacy_status})


@family
async def test_legacy_and_unified_routes_drive_one_and_the_same_state(client: Any, tenant: Tenant, family: str) -> None:
    """Flow A alternates between legacy and unified routes; flow B only uses unified ones. After every step each
    view of A equals that of B."""
    prefix, h = FAMILIES[family], headers(tenant)
    configuration = {"data": DISCOVERY_CSV}
    a = (await initialize(client, prefix, tenant, configuration=configuration))["flow_id"]
    b_created = await client.post(
        UNIFIED, json={"flow_type": "discovery", "name": "dc", "configuration": configuration}, headers=h
    )
    b = b_created.json()["flow_id"]
    await client.post(f"{UNIFIED}/{b}/start", headers=h)

    async def same_views(step: str) -> None:
        view_a, view_b = await views(client, prefix, tenant, a), await views(client, prefix, tenant, b)
        for key in view_a:
            assert view_a[key] == view_b[key], (step, key)

    await same_views("initialize / create + start")
    approve = {"approved": True, "mappings": {}}
    steps: list[tuple[str, str, dict[str, Any] | None]] = [
        ("unified", "execute", None),  # data_import
        ("legacy", "execute", None),  # field_mapping -> waiting_for_input
        ("unified", "input", approve),  # -> data_cleansing
        ("legacy", "pause", None),
        ("unified", "resume", None),
        ("legacy", "execute", None),  # data_cleansing
        ("unified", "pause", None),
        ("legacy", "resume", None),
        ("legacy", "execute", {"phase": "asset_inventory"}),  # the next phase, named
        ("unified", "execute", None),  # dependency_analysis
        ("legacy", "execute", None),  # tech_debt_assessment -> completed
        ("legacy", "delete", None),
    ]
    for route, operation, body in steps:
        current = (await client.get(f"{UNIFIED}/{a}", headers=h)).json()["version"]
        conditional = headers(tenant, **{"If-Match": f'"{current}"'})
        base = prefix if route == "legacy" else UNIFIED
        if operation == "delete":
            response_a = await client.delete(f"{base}/{a}", headers=conditional)
            response_b = await client.delete(f"{UNIFIED}/{b}", headers=conditional)
        else:
            response_a = await client.post(f"{base}/{a}/{operation}", json=body, headers=conditional)
            response_b = await client.post(f"{UNIFIED}/{b}/{operation}", json=body, headers=conditional)
        assert (response_a.status_code, response_b.status_code) == (200, 200), (route, operation, response_a.text)
        events = 2 if operation == "execute" else 1  # an executed phase: its claim and its completion
        assert response_a.headers["etag"] == response_b.headers["etag"] == f'"{current + events}"'
        assert response_a.json()["status"] == response_b.json()["status"]
        await same_views(f"{route} {operation}")

    final = await views(client, prefix, tenant, a)
    assert final["flow"]["status"] == "deleted" and final["status"]["in_sync"] is True
    assert final["legacy_status"]["phase_completion"] == dict.fromkeys(PHASES, True)
    assert [e["operation"] for e in final["events"]["items"]] == [
        "create",
        "start",
        *EXECUTED,
        *EXECUTED,
        "submit_input",
        "pause",
        "resume",
        *EXECUTED,
        "pause",
        "resume",
        *EXECUTED,
        *EXECUTED,
        *EXECUTED,
        "delete",
    ]
