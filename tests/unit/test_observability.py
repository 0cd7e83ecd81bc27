"""The orchestrator reports every operation to its observer; the Prometheus/OpenTelemetry observer turns that
into metrics and nested spans; logs are JSON lines with the request's context."""

from __future__ import annotations

import json
import logging
import os
from uuid import uuid4

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.observability.logs import JsonFormatter, log_context
from adapters.observability.metrics import MfoMetrics
from adapters.observability.observer import TelemetryObserver, outcome_of
from adapters.observability.tracing import Tracing, build_tracing
from application.flow_type_registry import FlowTypeRegistry
from application.orchestrator import MasterFlowOrchestrator
from domain.errors import FlowNotFound, IllegalTransition
from domain.events import Tenant
from entrypoints.http.request_context import request_id_of
from tests.fakes import FakeClock, FakeObserver, FakeUnitOfWork, fake_flow_type

TENANT = Tenant(uuid4(), uuid4())


def orchestrator(observer: object, **options: object) -> MasterFlowOrchestrator:
    registry = FlowTypeRegistry([fake_flow_type(**options)])
    return MasterFlowOrchestrator(FakeUnitOfWork(), registry, FakeClock(), observer=observer)  # type: ignore[arg-type]


async def test_each_operation_is_observed_with_its_flow_phases_and_error() -> None:
    observer = FakeObserver()
    mfo = orchestrator(observer)
    flow = await mfo.create_flow(TENANT, "fake", "f", {"items": [1]}, actor="a")
    await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    await mfo.execute_phase(TENANT, flow.flow_id, actor="a")
    with pytest.raises(IllegalTransition):
        await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    with pytest.raises(FlowNotFound):
        await mfo.pause_flow(TENANT, uuid4(), actor="a")

    ops = observer.operations
    # executing a phase is observed as its claim, the handler's run and the completion
    assert [o.operation for o in ops] == [
        "create", "start", "execute_phase", "run_phase", "complete_phase", "start", "pause"
    ]  # fmt: skip
    assert [o.flow_type for o in ops] == ["fake"] * 6 + [None]
    assert all(o.flow_id == flow.flow_id for o in ops[:6])
    assert [type(o.error).__name__ if o.error else None for o in ops] == [
        None, None, None, None, None, "IllegalTransition", "FlowNotFound"
    ]  # fmt: skip
    assert [o.phases for o in ops[2:5:2]] == [[], []]  # the claim and the completion run no phase
    (phase, kind, timings), = ops[3].phases  # fmt: skip
    assert (phase, kind) == ("collect", "completed") and timings["orchestrator"] >= 0
    assert observer.spans == [("mfo.phase", {"phase": "collect"})]


async def test_the_default_observer_observes_nothing_and_changes_nothing() -> None:
    mfo = MasterFlowOrchestrator(FakeUnitOfWork(), FlowTypeRegistry([fake_flow_type()]), FakeClock())
    flow = await mfo.create_flow(TENANT, "fake", "f", {}, actor="a")
    assert (await mfo.start_flow(TENANT, flow.flow_id, actor="a")).version == 2


def in_memory_tracing() -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    return Tracing.with_processor(SimpleSpanProcessor(exporter)), exporter


async def test_the_telemetry_observer_counts_times_and_nests_spans() -> None:
    metrics = MfoMetrics()
    tracing, exporter = in_memory_tracing()
    mfo = orchestrator(TelemetryObserver(metrics, tracing.tracer), fail_in="publish")
    flow = await mfo.create_flow(TENANT, "fake", "f", {"items": [1]}, actor="a")
    await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    await mfo.execute_phase(TENANT, flow.flow_id, actor="a")  # collect
    with pytest.raises(IllegalTransition):
        await mfo.resume_flow(TENANT, flow.flow_id, actor="a")

    value = metrics.registry.get_sample_value
    assert value("mfo_operations_total", {"flow_type": "fake", "operation": "create", "outcome": "ok"}) == 1
    for operation in ("execute_phase", "run_phase", "complete_phase"):  # the claim, the run, the completion
        assert value("mfo_operations_total", {"flow_type": "fake", "operation": operation, "outcome": "ok"}) == 1
    illegal = {"flow_type": "fake", "operation": "resume", "outcome": "illegal_transition"}
    assert value("mfo_operations_total", illegal) == 1
    phase = {"flow_type": "fake", "phase": "collect", "outcome": "completed"}
    assert value("mfo_phase_duration_seconds_count", phase) == 1
    assert value("mfo_delegation_step_duration_seconds_count", {"flow_type": "fake", "step": "orchestrator"}) == 1
    assert value("mfo_operation_duration_seconds_count", {"flow_type": "fake", "operation": "start"}) == 1

    spans = {s.name: s for s in exporter.get_finished_spans() if s.name == "mfo.phase"}
    phase_span = spans["mfo.phase"]
    parents = {s.context.span_id: s for s in exporter.get_finished_spans()}
    parent = parents[phase_span.parent.span_id]
    assert parent.name == "mfo.orchestrator"
    assert parent.attributes["mfo.operation"] == "run_phase"  # the handler runs outside the claim's transaction
    assert parent.attributes["mfo.flow_id"] == str(flow.flow_id)
    assert parent.attributes["mfo.outcome"] == "ok"
    assert phase_span.attributes["mfo.phase"] == "collect"


def test_outcomes_are_snake_case_error_names() -> None:
    assert outcome_of(None) == "ok"
    assert outcome_of(FlowNotFound(uuid4())) == "flow_not_found"
    assert outcome_of(RuntimeError("x")) == "error"


def test_tracing_is_off_unless_an_exporter_is_named() -> None:
    assert build_tracing("none").provider is None
    assert build_tracing("console").provider is not None
    with pytest.raises(SystemExit, match="MFO_OTEL_EXPORTER"):
        build_tracing("zipkin")


def test_log_lines_are_json_with_the_bound_context() -> None:
    record = logging.LogRecord("mfo.test", logging.ERROR, __file__, 1, "drift in %d flows", (2,), None)
    record.run_id = 7
    with log_context(request_id="r-1", tenant="a/b"), log_context(flow_id="f-1"):
        line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "drift in 2 flows" and line["level"] == "error" and line["logger"] == "mfo.test"
    assert (line["request_id"], line["tenant"], line["flow_id"], line["run_id"]) == ("r-1", "a/b", "f-1", 7)
    outside = json.loads(JsonFormatter().format(record))
    assert "request_id" not in outside and "flow_id" not in outside


def test_a_request_id_is_taken_when_safe_and_made_otherwise() -> None:
    assert request_id_of("abc-123") == "abc-123"
    made = request_id_of("bad id\r\nX-Injected: 1")
    assert len(made) == 32 and made != request_id_of(None)


def test_metrics_render_in_the_prometheus_text_format() -> None:
    metrics = MfoMetrics()
    metrics.legacy_hits_recorder("discovery", "/api/v1/discovery/flows/initialize", "POST")
    text = metrics.render().decode()
    assert (
        'mfo_legacy_route_hits_total{family="discovery",method="POST",route="/api/v1/discovery/flows/initialize"} 1.0'
        in text
    )


def test_with_a_multiprocess_dir_every_workers_counts_are_added_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """What ``mfo serve --workers N`` relies on: each worker writes its own file, any worker renders the sum."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = (
        "from adapters.observability.metrics import MfoMetrics; "
        "MfoMetrics().legacy_hits_recorder('discovery', '/x', 'GET')"
    )
    for _ in range(2):  # two worker processes
        subprocess.run([sys.executable, "-c", count], env=env, check=True)
    render = (
        "import sys; from adapters.observability.metrics import MfoMetrics; "
        "sys.stdout.write(MfoMetrics().render().decode())"
    )
    text = subprocess.run([sys.executable, "-c", render], env=env, check=True, capture_output=True, text=True).stdout
    assert 'mfo_legacy_route_hits_total{family="discovery",method="GET",route="/x"} 2.0' in text


def test_tracing_records_even_with_the_crewai_runtimes_otel_sdk_disabled(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")  # what adapters/crewai_bridge/runtime.py sets for crewai
    tracing, exporter = in_memory_tracing()
    with tracing.tracer.start_as_current_span("mfo.orchestrator"):
        pass
    assert [span.name for span in exporter.get_finished_spans()] == ["mfo.orchestrator"]
    assert os.environ["OTEL_SDK_DISABLED"] == "true"


def test_the_servers_log_config_writes_uvicorns_lines_as_json_too(capsys) -> None:  # type: ignore[no-untyped-def]
    import logging.config

    from adapters.observability.logs import log_config

    logging.config.dictConfig(log_config("INFO"))
    try:
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42, extra={"color_message": "\x1b[1m"})
        logging.getLogger("mfo.test").info("ready", extra={"port": 8000})
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
        for name in ("mfo", "uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    assert lines[0]["logger"] == "uvicorn.error" and lines[0]["message"] == "Started server process [42]"
    assert "color_message" not in lines[0]
    assert lines[1]["logger"] == "mfo.test" and lines[1]["port"] == 8000
