"""The tenant boundary includes monitoring: the system-wide audit, its latest run, the legacy usage counts and
/metrics are the platform operator's; a tenant's admin gets the audit of its own tenant only, which is never stored
and never delays or replaces the periodic audit (and with it the drift alert). On a database of its own (its audits
read every tenant's flows); the tests of the periodic audit get an empty one each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text

from domain.auth import Role
from domain.events import Tenant
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import ObservabilitySettings
from tests.fakes import FakeDriftAlert
from tests.support import (
    DISCOVERY_CSV,
    asgi_client,
    auth_headers,
    container_on,
    database_of_its_own,
    own_database,
    owner_engine_of,
    platform_headers,
)

PROBLEM = "application/problem+json"

settings, container = database_of_its_own("mfo_monitoring_boundary")


@pytest.fixture
async def monitored(settings) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    """A container and a database of its own: a periodic audit every 600 s (run by hand here), a fake drift alert,
    no stored run (no earlier test's periodic run counts as recent)."""
    from dependency_injector import providers

    observing = ObservabilitySettings(audit_interval_seconds=600, audit_findings_limit=100)
    periodic = replace(settings, observability=observing)
    async with own_database(periodic, "mfo_periodic") as mine, container_on(mine) as container:
        alert = FakeDriftAlert()
        container.drift_alert.override(providers.Object(alert))
        container.alert = alert
        yield container


async def drifted_flows(container: Container, tenant: Tenant, n: int) -> list[Any]:
    """``n`` flows of ``tenant``, each with its child row changed behind the orchestrator's back."""
    flows = []
    for i in range(n):
        flow = await container.orchestrator().create_flow(
            tenant, "discovery", f"d{i}", {"data": DISCOVERY_CSV}, actor="t"
        )
        flows.append(flow)
    async with owner_engine_of(container).begin() as connection:
        await connection.execute(
            text("UPDATE discovery_flows SET status = 'complete' WHERE flow_id = ANY(:ids)"),
            {"ids": [f.flow_id for f in flows]},
        )
    return flows


async def repair(container: Container, flows: list[Any]) -> None:
    async with owner_engine_of(container).begin() as connection:
        await connection.execute(
            text("UPDATE discovery_flows SET status = 'pending' WHERE flow_id = ANY(:ids)"),
            {"ids": [f.flow_id for f in flows]},
        )


async def test_a_tenant_admins_audits_never_delay_the_periodic_audit_or_its_alert(monitored, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    await drifted_flows(monitored, tenant, 1)
    first = await monitored.consistency_monitor().periodic_tick()
    assert first is not None and first.trigger == "periodic"
    async with asgi_client(create_app(monitored.settings(), monitored)) as client:
        for _ in range(5):
            own = await client.get("/api/v1/admin/consistency", headers=auth_headers(tenant, Role.ADMIN))
            assert own.status_code == 200, own.text
        latest = await client.get("/api/v1/admin/consistency/latest", headers=platform_headers())
    assert latest.json()["run_id"] == first.run_id  # the tenant's runs were not stored as the system's latest
    async with owner_engine_of(monitored).begin() as connection:  # the interval has passed since the periodic run
        await connection.execute(
            text("UPDATE consistency_audit_runs SET finished_at = finished_at - interval '1 hour' WHERE run_id = :id"),
            {"id": first.run_id},
        )
    second = await monitored.consistency_monitor().periodic_tick()
    assert second is not None and second.trigger == "periodic"
    assert len(monitored.alert.sent) == 2  # both periodic runs alerted


async def test_an_on_demand_system_audit_does_not_postpone_the_periodic_one(monitored) -> None:  # type: ignore[no-untyped-def]
    assert (await monitored.consistency_monitor().periodic_tick()) is not None
    async with asgi_client(create_app(monitored.settings(), monitored)) as client:
        assert (await client.get("/api/v1/admin/consistency", headers=platform_headers())).status_code == 200
    async with owner_engine_of(monitored).begin() as connection:
        await connection.execute(
            text("UPDATE consistency_audit_runs SET finished_at = finished_at - interval '1 hour' "
                 "WHERE trigger = 'periodic'")
        )  # fmt: skip
    assert (await monitored.consistency_monitor().periodic_tick()) is not None


async def test_a_tenant_admin_sees_only_its_own_tenants_findings_and_counts(
    settings, container, tenant: Tenant, other_tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    mine = await drifted_flows(container, tenant, 2)
    clean = await container.orchestrator().create_flow(tenant, "discovery", "ok", {"data": DISCOVERY_CSV}, actor="t")
    theirs = await drifted_flows(container, other_tenant, 1)
    try:
        async with asgi_client(create_app(settings, container)) as client:
            own = await client.get("/api/v1/admin/consistency", headers=auth_headers(tenant, Role.ADMIN))
            system = await client.get("/api/v1/admin/consistency?limit=10000", headers=platform_headers())
        assert own.status_code == 200, own.text
        report = own.json()
        assert (report["flows_checked"], report["inconsistent"], report["scope"]) == (3, 2, "tenant")
        assert sorted(f["flow_id"] for f in report["findings"]) == sorted(str(f.flow_id) for f in mine)
        assert {f["client_account_id"] for f in report["findings"]} == {str(tenant.client_account_id)}
        assert str(clean.flow_id) not in own.text and str(theirs[0].flow_id) not in own.text
        everything = system.json()
        assert everything["scope"] == "system" and everything["flows_checked"] >= 4
        found = {f["flow_id"] for f in everything["findings"]}
        assert {str(f.flow_id) for f in [*mine, *theirs]} <= found
    finally:
        await repair(container, [*mine, *theirs])


@pytest.mark.parametrize("limit", ["0", "-1", "10001", "many"])
async def test_an_audit_limit_outside_1_to_the_maximum_is_a_400(
    settings, container, tenant: Tenant, limit: str
) -> None:  # type: ignore[no-untyped-def]
    async with asgi_client(create_app(settings, container)) as client:
        for caller in (platform_headers(), auth_headers(tenant, Role.ADMIN)):
            response = await client.get(f"/api/v1/admin/consistency?limit={limit}", headers=caller)
            assert response.status_code == 400, response.text
            assert response.headers["content-type"].startswith(PROBLEM)


async def test_a_small_limit_never_stores_truncated_findings_as_the_latest(settings, container, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    flows = await drifted_flows(container, tenant, 2)
    try:
        async with asgi_client(create_app(settings, container)) as client:
            answered = await client.get("/api/v1/admin/consistency?limit=1", headers=platform_headers())
            latest = await client.get("/api/v1/admin/consistency/latest", headers=platform_headers())
        assert answered.status_code == 200 and len(answered.json()["findings"]) == 1
        stored = {f["flow_id"] for f in latest.json()["findings"]}
        assert {str(f.flow_id) for f in flows} <= stored
    finally:
        await repair(container, flows)


SYSTEM_WIDE = ["/api/v1/admin/consistency/latest", "/api/v1/legacy/usage", "/metrics"]


@pytest.mark.parametrize("path", SYSTEM_WIDE)
async def test_system_wide_routes_need_the_platform_credential(settings, container, tenant: Tenant, path: str) -> None:  # type: ignore[no-untyped-def]
    async with asgi_client(create_app(settings, container)) as client:
        anonymous = await client.get(path)  # dev mode trusts tenant headers, never for a platform route
        as_tenant_admin = await client.get(path, headers=auth_headers(tenant, Role.ADMIN))
        as_platform = await client.get(path, headers=platform_headers())
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    assert as_tenant_admin.status_code == 403 and as_tenant_admin.headers["content-type"].startswith(PROBLEM)
    body = as_tenant_admin.json()
    assert (body["role"], body["required_role"]) == ("admin", "platform") and "platform" in body["detail"]
    assert as_platform.status_code in (200, 404), as_platform.text  # 404: no audit stored yet


async def test_the_platform_credential_cannot_reach_a_tenants_flows(settings, container, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    flow = await container.orchestrator().create_flow(tenant, "discovery", "f", {"data": DISCOVERY_CSV}, actor="t")
    async with asgi_client(create_app(settings, container)) as client:
        for method, path in (("GET", "/api/v1/flows"), ("GET", f"/api/v1/flows/{flow.flow_id}"),
                             ("POST", f"/api/v1/flows/{flow.flow_id}/start")):  # fmt: skip
            response = await client.request(method, path, headers=platform_headers())
            assert response.status_code == 403, (path, response.text)
            assert response.json()["role"] == "platform" and "names no tenant" in response.json()["detail"]
