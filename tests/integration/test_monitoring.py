"""Monitoring on real PostgreSQL: /metrics after real operations, the gauges read at scrape time, the stored
audit runs, the advisory lock, JSON logs with the request's context. On a database of its own: the gauges and the
audits read the whole database; the test of the first stored audit gets an empty one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import text

from adapters.observability.scrape import DatabaseGauges
from adapters.persistence.audit_runs import PgAuditLock
from domain.events import Tenant
from entrypoints.http.app import create_app
from tests.observing import JsonLines, scrape, value
from tests.support import (
    DISCOVERY_CSV,
    asgi_client,
    container_on,
    database_of_its_own,
    headers,
    own_database,
    owner_engine_of,
    platform_headers,
)

settings, container = database_of_its_own("mfo_monitoring")


@pytest.fixture
def json_lines() -> Iterator[JsonLines]:
    with JsonLines.capture() as lines:
        yield lines


async def test_metrics_change_with_real_operations(settings, container, tenant: Tenant, json_lines) -> None:  # type: ignore[no-untyped-def]
    async with asgi_client(create_app(settings, container)) as client:
        before = await scrape(client)
        h = headers(tenant)
        body = {"flow_type": "discovery", "name": "observed", "configuration": {"data": DISCOVERY_CSV}}
        created = await client.post("/api/v1/flows", json=body, headers={**h, "X-Request-ID": "req-observed-1"})
        assert created.status_code == 201 and created.headers["x-request-id"] == "req-observed-1"
        flow_id = created.json()["flow_id"]
        for step in ("start", "execute"):
            assert (await client.post(f"/api/v1/flows/{flow_id}/{step}", headers=h)).status_code == 200
        refused = await client.post(f"/api/v1/flows/{flow_id}/resume", headers=h)
        assert refused.status_code == 409 and len(refused.headers["x-request-id"]) == 32
        legacy = await client.post(
            "/api/v1/discovery/flows/initialize",
            json={"flow_name": "old", "configuration": {"data": DISCOVERY_CSV}},
            headers=h,
        )
        assert legacy.status_code == 201
        after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    ok = {"flow_type": "discovery", "outcome": "ok"}
    assert delta("mfo_operations_total", operation="create", **ok) == 1
    assert delta("mfo_operations_total", operation="execute_phase", **ok) == 1
    assert delta("mfo_operations_total", operation="initialize", **ok) == 1
    illegal = {"flow_type": "discovery", "operation": "resume", "outcome": "illegal_transition"}
    assert delta("mfo_operations_total", **illegal) == 1
    phase = {"flow_type": "discovery", "phase": "data_import", "outcome": "completed"}
    assert delta("mfo_phase_duration_seconds_count", **phase) == 1
    assert delta("mfo_phase_duration_seconds_sum", **phase) > 0
    for step in ("orchestrator", "bridge", "adapter"):
        assert delta("mfo_delegation_step_duration_seconds_count", flow_type="discovery", step=step) == 1, step
    route = {"family": "discovery", "route": "/api/v1/discovery/flows/initialize", "method": "POST"}
    assert delta("mfo_legacy_route_hits_total", **route) == 1
    for gauge in ("mfo_queue_depth", "mfo_queue_lag_seconds", "mfo_consistency_inconsistent_flows"):
        assert (gauge, ()) in after, gauge
    assert value(after, "mfo_metrics_database_up") == 1

    created_lines = [line for line in json_lines.lines if line.get("request_id") == "req-observed-1"]
    operation = next(line for line in created_lines if line["message"] == "operation finished")
    assert operation["flow_id"] == flow_id and operation["operation"] == "create" and operation["outcome"] == "ok"
    assert operation["tenant"] == f"{tenant.client_account_id}/{tenant.engagement_id}"
    request = next(line for line in created_lines if line["message"] == "request finished")
    assert request["status"] == 201 and request["path"] == "/api/v1/flows"


async def test_queue_gauges_read_due_flows_and_leases(container) -> None:  # type: ignore[no-untyped-def]
    """The queue is the flows table (``run_due_at``) and ``phase_leases``: due flows per tenant and the longest wait,
    leases held per tenant and those expired."""
    mfo = container.orchestrator
    due_tenant, leasing_tenant = Tenant(uuid4(), uuid4()), Tenant(uuid4(), uuid4())
    waiting = []
    for _ in range(3):  # auto-run flows no runner claims (no runner runs here): due since they started
        flow = await mfo().create_flow(due_tenant, "discovery", "due", {"data": DISCOVERY_CSV}, actor="t")
        waiting.append((await mfo().start_flow(due_tenant, flow.flow_id, actor="t", auto_run=True)).flow_id)
    leased = []
    for _ in range(2):  # attempts claimed for an owner that never runs them
        flow = await mfo().create_flow(leasing_tenant, "discovery", "leased", {"data": DISCOVERY_CSV}, actor="t")
        await mfo().start_flow(leasing_tenant, flow.flow_id, actor="t")
        claimed = await container.phase_execution().claim_phase(
            leasing_tenant, flow.flow_id, actor="t", owner="gauged", lease_seconds=60
        )
        leased.append(claimed.flow.flow_id)
    async with owner_engine_of(container).begin() as connection:
        for flow_id, due in zip(waiting, (-30, -5, 3600), strict=True):  # the last: not yet
            await connection.execute(
                text("UPDATE flows SET run_due_at = now() + make_interval(secs => :due) WHERE flow_id = :f"),
                {"due": due, "f": flow_id},
            )
        await connection.execute(
            text("UPDATE phase_leases SET expires_at = now() - interval '1 second' WHERE flow_id = :f"),
            {"f": leased[0]},
        )
    gauges = await DatabaseGauges(container.owner_database()).read()

    def of(tenant: Tenant, name: str) -> float:
        labels = (str(tenant.client_account_id), str(tenant.engagement_id))
        return dict(gauges[name][1]).get(labels, 0.0)  # type: ignore[arg-type]

    assert of(due_tenant, "mfo_tenant_queue_depth") == 2 and of(leasing_tenant, "mfo_tenant_queue_depth") == 0
    assert of(leasing_tenant, "mfo_tenant_phases_running") == 2 and of(due_tenant, "mfo_tenant_phases_running") == 0
    assert gauges["mfo_queue_depth"][1] >= 2 and gauges["mfo_phases_running"][1] >= 2
    assert gauges["mfo_phase_leases_expired"][1] >= 1
    assert 29 <= gauges["mfo_queue_lag_seconds"][1] < 80  # type: ignore[operator]
    assert gauges["mfo_metrics_database_up"][1] == 1


@pytest.fixture
async def never_audited(settings) -> AsyncIterator[tuple[Any, Any]]:  # type: ignore[no-untyped-def]
    """A database of this test's own, on which no audit has run yet."""
    async with own_database(settings, "mfo_no_audit") as mine, container_on(mine) as container:
        yield mine, container


async def test_the_latest_audit_is_stored_and_served(never_audited) -> None:  # type: ignore[no-untyped-def]
    settings, container = never_audited
    async with asgi_client(create_app(settings, container)) as client:
        none = await client.get("/api/v1/admin/consistency/latest", headers=platform_headers())
        assert none.status_code == 404 and none.headers["content-type"].startswith("application/problem+json")
        assert none.json()["type"].endswith("/no-audit-yet")
        report = (await client.get("/api/v1/admin/consistency", headers=platform_headers())).json()
        latest = await client.get("/api/v1/admin/consistency/latest", headers=platform_headers())
        assert latest.status_code == 200
        run = latest.json()
        assert run["trigger"] == "api" and run["flows_checked"] == report["flows_checked"]
        assert run["inconsistent"] == report["inconsistent"] and run["run_id"] >= 1
        scraped = await scrape(client)
    assert value(scraped, "mfo_consistency_flows_checked") == report["flows_checked"]
    assert value(scraped, "mfo_consistency_last_audit_timestamp_seconds") > 0


async def test_only_one_holder_of_the_audit_lock_at_a_time(container) -> None:  # type: ignore[no-untyped-def]
    first, second = PgAuditLock(container.owner_database()), PgAuditLock(container.owner_database())
    async with first.hold() as mine:
        assert mine is True
        async with second.hold() as theirs:
            assert theirs is False
    async with second.hold() as now_mine:
        assert now_mine is True


async def test_spans_follow_the_delegation_chain_through_the_bridge(settings, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    from dependency_injector import providers
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from adapters.observability.tracing import Tracing
    from entrypoints.container import Container

    exporter = InMemorySpanExporter()
    container = Container(settings=settings)
    container.tracing.override(providers.Object(Tracing.with_processor(SimpleSpanProcessor(exporter))))
    try:
        mfo = container.orchestrator
        flow = await mfo().create_flow(tenant, "discovery", "traced", {"data": DISCOVERY_CSV}, actor="t")
        await mfo().start_flow(tenant, flow.flow_id, actor="t")
        exporter.clear()
        await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    finally:
        await owner_engine_of(container).dispose()
    spans = exporter.get_finished_spans()
    by_id = {span.context.span_id: span for span in spans}

    def chain(span) -> list[str]:  # type: ignore[no-untyped-def]
        names = [span.name]
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            names.append(span.name)
        return names

    adapter = next(span for span in spans if span.name == "mfo.adapter")
    # the run continues the claim's trace (stored with the claim): the claim's operation is the run's parent
    assert chain(adapter) == ["mfo.adapter", "mfo.bridge", "mfo.phase", "mfo.orchestrator", "mfo.orchestrator"]
    assert adapter.attributes["mfo.phase"] == "data_import"
    assert adapter.attributes["mfo.adapter"] == "DirectFlowTypeAdapter"  # the type's own service, inside the bridge
    phase = next(span for span in spans if span.name == "mfo.phase")
    assert by_id[phase.parent.span_id].attributes["mfo.operation"] == "run_phase"
    # the phase's three parts are three operations in one trace: the claim, and the run and completion within it
    (root,) = [span for span in spans if span.parent is None]
    assert root.attributes["mfo.operation"] == "execute_phase"
    parts = sorted((span for span in spans if span.name == "mfo.orchestrator"), key=lambda span: span.start_time)
    assert [p.attributes["mfo.operation"] for p in parts] == ["execute_phase", "run_phase", "complete_phase"]
    assert all(p.attributes["mfo.flow_id"] == str(flow.flow_id) and p.attributes["mfo.outcome"] == "ok" for p in parts)
    assert [p.parent.span_id for p in parts[1:]] == [root.context.span_id] * 2
    assert {span.context.trace_id for span in spans} == {root.context.trace_id}


async def test_a_scrape_storm_runs_the_gauge_queries_once(settings, container) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from dependency_injector import providers

    from adapters.observability.gauge_cache import CachedGauges
    from entrypoints.container import build_container, close_databases
    from entrypoints.settings import ObservabilitySettings

    cached = replace(settings, observability=ObservabilitySettings(metrics_cache_seconds=5))
    wired = build_container(cached)
    assert isinstance(wired.database_gauges(), CachedGauges)
    assert wired.database_gauges() is wired.database_gauges()  # one cache per process, not one per scrape
    await close_databases(wired)

    class CountingDatabaseGauges(DatabaseGauges):
        reads = 0

        async def read(self):  # type: ignore[no-untyped-def]
            CountingDatabaseGauges.reads += 1
            return await super().read()

    own = build_container(cached)
    own.database_gauges.override(providers.Object(CachedGauges(CountingDatabaseGauges(container.owner_database()), 5)))
    async with asgi_client(create_app(cached, own)) as client:
        scrapes = [await scrape(client) for _ in range(25)]
    assert CountingDatabaseGauges.reads == 1
    assert all(value(s, "mfo_metrics_database_up") == 1 for s in scrapes)
    await close_databases(own)
