"""Versions of a flow type over HTTP, on a database of its own: two versions of discovery in flight at once (through
the CrewAI bridge), the listing with how many flows use each, a migration with If-Match, a refused one (409 saying
why), a bulk migration (admin only) with its dry run, and the auditor clean after all of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from dependency_injector import providers

from adapters.flow_types.discovery import register as discovery
from domain.auth import Role
from domain.events import Tenant
from domain.flow_types import FlowTypeDefinition
from entrypoints.container import build_auditor, build_flow_types
from entrypoints.http.app import create_app
from tests.fakes import another_version
from tests.support import DISCOVERY_INPUTS, asgi_client, auth_headers, container_on, database_of_its_own, headers

settings, container = database_of_its_own("mfo_versions")

ESTATE = "hostname,type,os,os_version,env,depends_on\nweb1,server,Ubuntu,16.04,prod,db1\ndb1,database,RHEL,7,prod,\n"
V1 = discovery()
V2 = another_version(V1)  # discovery's phases and 'archive' at the end
V3 = another_version(  # without the last two phases: a flow that has run dependency_analysis cannot move to it
    V1, version=3, phases=V1.phases[:4], dropped=frozenset({"dependency_analysis", "tech_debt_assessment"})
)


@pytest.fixture
async def serving(settings) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    """A client of one app whose registry has only ``definitions`` (discovery's versions) besides the others."""
    opened: list[Any] = []

    async def serve(*definitions: FlowTypeDefinition) -> Any:
        holder = container_on(settings)
        built = await holder.__aenter__()
        opened.append(holder)
        registry = build_flow_types(settings, built.observer(), extra=tuple(d for d in definitions if d.version > 1))
        if 1 not in [d.version for d in definitions]:
            pytest.fail("every app here keeps version 1")
        built.flow_types.override(providers.Object(registry))
        client = asgi_client(create_app(settings, built))
        opened.append(client)
        return await client.__aenter__()

    yield serve
    for holder in reversed(opened):
        await holder.__aexit__(None, None, None)


async def create(client: Any, tenant: Tenant) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/flows",
        json={"flow_type": "discovery", "name": "dc", "configuration": {"data": ESTATE}},
        headers=headers(tenant),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def step(client: Any, tenant: Tenant, flow: dict[str, Any], operation: str, body: Any = None) -> dict[str, Any]:
    response = await client.post(f"/api/v1/flows/{flow['flow_id']}/{operation}", json=body, headers=headers(tenant))
    assert response.status_code == 200, response.text
    return response.json()


async def to_the_end(client: Any, tenant: Tenant, flow: dict[str, Any], until: str | None = None) -> dict[str, Any]:
    """Run the flow to its end (or until phase ``until`` has completed), giving each waiting phase its input."""
    while flow["status"] != "completed":
        if until is not None and {"name": until, "state": "completed"} in flow["phases"]:
            return flow
        if flow["status"] == "waiting_for_input":
            flow = await step(client, tenant, flow, "input", DISCOVERY_INPUTS[flow["current_phase"]])
        else:
            flow = await step(client, tenant, flow, "execute")
    return flow


async def in_sync(client: Any, tenant: Tenant, flow: dict[str, Any]) -> bool:
    status = (await client.get(f"/api/v1/flows/{flow['flow_id']}/status", headers=headers(tenant))).json()
    return status["in_sync"]


async def test_two_versions_in_flight_then_migrated_one_by_one_and_in_bulk(
    serving, settings, container, tenant
) -> None:  # type: ignore[no-untyped-def]
    old_server = await serving(V1)
    old = await step(old_server, tenant, await create(old_server, tenant), "start")
    early = await step(old_server, tenant, await create(old_server, tenant), "start")  # nothing imported yet
    imported = await step(old_server, tenant, old, "execute")  # data_import completed
    assert imported["contract"] == {
        "version": 1,
        "phases": list(V1.phases),
        "input_phases": ["field_mapping"],
        "bridged": True,
    }

    server = await serving(V1, V2, V3)
    listed = {t["name"]: t for t in (await server.get("/api/v1/flow-types", headers=headers(tenant))).json()["items"]}
    discovery_listed = listed["discovery"]
    assert discovery_listed["version"] == 3
    assert [
        (v["version"], v["flows"], v["flows_by_status"], v["migrates_from"]) for v in discovery_listed["versions"]
    ] == [
        (1, 2, {"running": 2}, []),
        (2, 0, {}, [1]),
        (3, 0, {}, [1]),
    ]

    # two versions in flight at once: a version-1 flow and a version-3 flow, each run to its own end
    newer = await step(server, tenant, await create(server, tenant), "start")
    assert newer["contract"]["version"] == 3 and [p["name"] for p in newer["phases"]] == list(V3.phases)
    finished_new = await to_the_end(server, tenant, newer)
    assert [p["name"] for p in finished_new["phases"]] == list(V3.phases)

    # one flow: a stale If-Match is refused, the right one moves it in one event
    stale = await server.post(
        f"/api/v1/flows/{imported['flow_id']}/migrate",
        json={"to_version": 2},
        headers=headers(tenant, **{"If-Match": '"1"'}),
    )
    assert stale.status_code == 409 and stale.json()["type"].endswith("version-conflict")
    moved = await server.post(
        f"/api/v1/flows/{imported['flow_id']}/migrate",
        json={"to_version": 2},
        headers=headers(tenant, **{"If-Match": f'"{imported["version"]}"'}),
    )
    assert moved.status_code == 200, moved.text
    migrated = moved.json()
    assert moved.headers["ETag"] == f'"{imported["version"] + 1}"'
    assert migrated["contract"]["version"] == 2 and migrated["phases"][-1] == {"name": "archive", "state": "pending"}
    assert migrated["phases"][0] == {"name": "data_import", "state": "completed"}
    events = (await server.get(f"/api/v1/flows/{imported['flow_id']}/events", headers=headers(tenant))).json()["items"]
    assert len(events) == migrated["version"] and events[-1]["operation"] == "migrate"
    assert await in_sync(server, tenant, migrated)

    # a refused migration: version 3 drops dependency_analysis, which this flow has run
    far = await step(old_server, tenant, await create(old_server, tenant), "start")
    far = await to_the_end(old_server, tenant, far, until="dependency_analysis")
    refused = await server.post(
        f"/api/v1/flows/{far['flow_id']}/migrate", json={"to_version": 3}, headers=headers(tenant)
    )
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("migration-refused")
    assert problem["reason"] == (
        "phase 'dependency_analysis' is completed and version 3 drops it: only a phase not yet run may be dropped"
    )
    assert (problem["from_version"], problem["to_version"]) == (1, 3)
    after = (await server.get(f"/api/v1/flows/{far['flow_id']}", headers=headers(tenant))).json()
    assert after["version"] == far["version"] and after["contract"]["version"] == 1
    no_mapping = await server.post(
        f"/api/v1/flows/{imported['flow_id']}/migrate", json={"to_version": 3}, headers=headers(tenant)
    )
    assert no_mapping.status_code == 409
    assert no_mapping.json()["reason"] == "version 3 declares no migration from version 2"

    # in bulk: admin only; the dry run lists, changes nothing; the real run does what it listed
    body = {"flow_type": "discovery", "from_version": 1, "to_version": 3, "dry_run": True}
    forbidden = await server.post("/api/v1/admin/flows/migrate", json=body, headers=auth_headers(tenant, Role.OPERATOR))
    assert forbidden.status_code == 403
    second_old = far  # dependency_analysis completed: version 3 cannot take it
    dry = await server.post("/api/v1/admin/flows/migrate", json=body, headers=auth_headers(tenant, Role.ADMIN))
    assert dry.status_code == 200, dry.text
    listing = dry.json()
    assert (listing["dry_run"], listing["migrated"], listing["refused"]) == (True, 1, 1)
    outcomes = {i["flow_id"]: i for i in listing["items"]}
    assert outcomes[early["flow_id"]]["outcome"] == "would_migrate"
    assert outcomes[early["flow_id"]]["plan"] == {
        "from_version": 1,
        "to_version": 3,
        "kept": list(V3.phases),
        "added": [],
        "dropped": ["dependency_analysis", "tech_debt_assessment"],
    }
    assert outcomes[second_old["flow_id"]]["outcome"] == "refused"
    assert outcomes[second_old["flow_id"]]["reason"] == problem["reason"]
    unchanged = (await server.get(f"/api/v1/flows/{early['flow_id']}", headers=headers(tenant))).json()
    assert unchanged["contract"]["version"] == 1 and unchanged["version"] == early["version"]

    done = await server.post(
        "/api/v1/admin/flows/migrate", json={**body, "dry_run": False}, headers=auth_headers(tenant, Role.ADMIN)
    )
    assert done.status_code == 200, done.text
    result = {i["flow_id"]: i for i in done.json()["items"]}
    assert result[early["flow_id"]]["outcome"] == "migrated"
    assert result[early["flow_id"]]["plan"] == outcomes[early["flow_id"]]["plan"]
    assert result[second_old["flow_id"]]["outcome"] == "refused"
    moved_early = (await server.get(f"/api/v1/flows/{early['flow_id']}", headers=headers(tenant))).json()
    assert moved_early["contract"]["version"] == 3 and moved_early["version"] == early["version"] + 1
    finished = await to_the_end(server, tenant, moved_early)
    assert [p["name"] for p in finished["phases"]] == list(V3.phases)
    assert await in_sync(server, tenant, finished)
    assert await in_sync(server, tenant, await to_the_end(server, tenant, migrated))

    report = await build_auditor(container.owner_database(), settings, container.flow_types()).audit()
    assert report.flows_checked == 4
    assert (report.inconsistent, report.findings) == (0, [])
