"""Every request is counted and timed by method, route template and status (never its raw path), and is an
OpenTelemetry server span continuing the caller's ``traceparent``; a phase claimed by a request and run in the
background is part of that trace, and so is the first phase a runner claims of a flow the request started with
``auto_run``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

from dependency_injector import providers
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from adapters.observability.tracing import Tracing
from domain.events import Tenant
from entrypoints.container import Container, close_databases
from entrypoints.http.app import create_app
from tests.observing import scrape, value
from tests.support import DISCOVERY_CSV, asgi_client, eventually, headers

REQUESTS = "mfo_http_requests_total"
SECONDS = "mfo_http_request_duration_seconds_count"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


async def test_requests_are_counted_by_route_template_method_and_status(client, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    before = await scrape(client)
    missing = [str(uuid4()), str(uuid4())]
    for flow_id in missing:
        assert (await client.get(f"/api/v1/flows/{flow_id}", headers=headers(tenant))).status_code == 404
    assert (await client.head("/health")).status_code == 200
    assert (await client.request("PROPFIND", "/api/v1/flows", headers=headers(tenant))).status_code == 405
    assert (await client.get(f"/no/such/{uuid4()}")).status_code == 404
    after = await scrape(client)

    def grew(name: str, by: float, **labels: str) -> None:
        assert value(after, name, **labels) - value(before, name, **labels) == by, (name, labels)

    grew(REQUESTS, 2, method="GET", route="/api/v1/flows/{flow_id}", status="404")
    grew(SECONDS, 2, method="GET", route="/api/v1/flows/{flow_id}")
    grew(REQUESTS, 1, method="HEAD", route="/health", status="200")  # HEAD is routed as GET, labelled as HEAD
    grew(REQUESTS, 1, method="_OTHER", route="unmatched", status="405")  # no label per unknown method
    grew(REQUESTS, 1, method="GET", route="unmatched", status="404")
    labels = {value for (name, pairs) in after if name == REQUESTS for _, value in pairs}
    assert not any(flow_id in label for flow_id in missing for label in labels)  # no raw path: bounded


@asynccontextmanager
async def traced_app(
    settings: Any, exporter: InMemorySpanExporter, *, background_worker: bool = False
) -> AsyncIterator[Any]:
    """A client of a started app whose spans go to ``exporter`` (with ``background_worker``, its runner claims due
    work as ``mfo worker`` does)."""
    container = Container(settings=settings)  # its observer is built from the overridden tracing below
    container.tracing.override(providers.Object(Tracing.with_processor(SimpleSpanProcessor(exporter))))
    try:
        app = create_app(settings, container, background_worker=background_worker)
        async with app.lifespan(), asgi_client(app) as client:  # the lifespan starts the runner, stops it
            yield client
    finally:
        await close_databases(container)


async def create_discovery_flow(client: Any, tenant: Tenant, name: str) -> str:
    created = await client.post(
        "/api/v1/flows",
        json={"flow_type": "discovery", "name": name, "configuration": {"data": DISCOVERY_CSV}},
        headers=headers(tenant),
    )
    assert created.status_code == 201, created.text
    return str(created.json()["flow_id"])


async def wait_for_completed_phase(client: Any, tenant: Tenant, flow_id: str, phase: str, exporter: Any) -> None:
    async def ran() -> bool:
        flow = (await client.get(f"/api/v1/flows/{flow_id}", headers=headers(tenant))).json()
        return {p["name"]: p["state"] for p in flow["phases"]}[phase] == "completed"

    await eventually(ran, within=60, what=f"phase {phase} completing in the background")
    await eventually(
        lambda: any(s.attributes.get("mfo.operation") == "complete_phase" for s in exporter.get_finished_spans()),
        within=10,
        what="the completion's span",
    )


async def test_a_request_continues_the_callers_trace_into_the_phase_it_claims_for_the_background(
    settings, tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    exporter = InMemorySpanExporter()
    async with traced_app(settings, exporter) as client:
        flow_id = await create_discovery_flow(client, tenant, "traced")
        await client.post(f"/api/v1/flows/{flow_id}/start", headers=headers(tenant))
        exporter.clear()
        claimed = await client.post(
            f"/api/v1/flows/{flow_id}/execute", headers=headers(tenant, wait=False, traceparent=TRACEPARENT)
        )
        assert claimed.status_code == 202, claimed.text
        await wait_for_completed_phase(client, tenant, flow_id, "data_import", exporter)
    spans = exporter.get_finished_spans()
    server = next(s for s in spans if s.kind == SpanKind.SERVER and s.name == "POST /api/v1/flows/{flow_id}/execute")
    assert f"{server.context.trace_id:032x}" == TRACE_ID
    assert server.parent is not None and f"{server.parent.span_id:016x}" == PARENT_ID
    assert server.attributes["http.route"] == "/api/v1/flows/{flow_id}/execute"
    assert server.attributes["http.response.status_code"] == 202
    operations = {s.attributes.get("mfo.operation"): s for s in spans if s.name == "mfo.orchestrator"}
    claim, run, completion = operations["execute_phase"], operations["run_phase"], operations["complete_phase"]
    assert claim.parent.span_id == server.context.span_id  # the orchestrator's operation within the request's span
    for background in (run, completion):  # in the background, after the answer: the claim's trace goes on
        assert f"{background.context.trace_id:032x}" == TRACE_ID
        assert background.parent.span_id == claim.context.span_id
        assert background.start_time >= claim.end_time


async def test_an_auto_run_start_continues_the_callers_trace_into_the_first_phase_a_runner_claims(
    settings, tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    exporter = InMemorySpanExporter()
    async with traced_app(settings, exporter, background_worker=True) as client:
        flow_id = await create_discovery_flow(client, tenant, "traced auto-run")
        exporter.clear()
        started = await client.post(
            f"/api/v1/flows/{flow_id}/start",
            json={"auto_run": True},
            headers=headers(tenant, traceparent=TRACEPARENT),
        )
        assert started.status_code == 200, started.text
        assert started.json()["running_phase"] is None  # the request claimed no phase: a runner claims the first
        await wait_for_completed_phase(client, tenant, flow_id, "data_import", exporter)
    spans = exporter.get_finished_spans()
    server = next(s for s in spans if s.kind == SpanKind.SERVER and s.name == "POST /api/v1/flows/{flow_id}/start")
    assert f"{server.context.trace_id:032x}" == TRACE_ID
    start = next(s for s in spans if s.name == "mfo.orchestrator" and s.attributes.get("mfo.operation") == "start")
    assert start.parent.span_id == server.context.span_id
    by_id = {s.context.span_id: s for s in spans}
    phase = next(s for s in spans if s.name == "mfo.phase" and s.attributes.get("mfo.phase") == "data_import")
    run = by_id[phase.parent.span_id]
    assert run.attributes.get("mfo.operation") == "run_phase"
    completion = next(
        s for s in spans if s.attributes.get("mfo.operation") == "complete_phase" and s.start_time >= run.end_time
    )
    for background in (phase, run, completion):  # claimed by a runner after the answer, yet in the caller's trace
        assert f"{background.context.trace_id:032x}" == TRACE_ID, background.name
    for background in (run, completion):
        assert background.parent.span_id == start.context.span_id  # children of the start that made it due
        assert background.start_time >= start.end_time
