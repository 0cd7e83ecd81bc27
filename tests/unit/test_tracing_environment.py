"""MFO's tracing honours the OpenTelemetry SDK's standard variables (and ``MFO_OTEL_EXPORTER`` still works)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from adapters.observability.tracing import build_tracing

STANDARD = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_SAMPLER",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in STANDARD:
        monkeypatch.delenv(name, raising=False)


def test_nothing_named_means_no_tracing() -> None:
    tracing = build_tracing("none")
    assert tracing.provider is None and tracing.exporters == ()


def test_otel_traces_exporter_names_the_exporters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console, otlp_proto_http")
    tracing = build_tracing("none")
    assert tracing.provider is not None and tracing.exporters == ("console", "otlp_proto_http")
    tracing.shutdown()


def test_otlp_follows_the_configured_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    tracing = build_tracing("none")  # the gRPC exporter, which is installed (an unknown one would stop start-up)
    assert tracing.provider is not None and tracing.exporters == ("otlp",)
    tracing.shutdown()


def test_none_in_the_list_exports_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert build_tracing("none").provider is None


def test_mfo_otel_exporter_wins_when_it_names_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp_proto_grpc")
    tracing = build_tracing("console")
    assert tracing.exporters == ("console",)
    tracing.shutdown()


def test_an_exporter_that_is_not_installed_stops_start_up_naming_the_installed_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin_json")
    with pytest.raises(SystemExit, match=r"zipkin_json.*installed: .*console"):
        build_tracing("none")


def test_the_standard_service_name_beats_mfos_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    assert build_tracing("none", "mfo").provider.resource.attributes["service.name"] == "mfo"  # type: ignore[union-attr]
    monkeypatch.setenv("OTEL_SERVICE_NAME", "flows-eu")
    assert build_tracing("none", "mfo").provider.resource.attributes["service.name"] == "flows-eu"  # type: ignore[union-attr]
    monkeypatch.delenv("OTEL_SERVICE_NAME")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=flows-us,deployment.environment=prod")
    attributes = build_tracing("none", "mfo").provider.resource.attributes  # type: ignore[union-attr]
    assert (attributes["service.name"], attributes["deployment.environment"]) == ("flows-us", "prod")


def test_the_sampler_comes_from_otel_traces_sampler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    assert build_tracing("console").provider.sampler is ALWAYS_OFF  # type: ignore[union-attr]


def test_otel_sdk_disabled_turns_tracing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    from adapters.crewai_bridge import runtime

    if "OTEL_SDK_DISABLED" in runtime._before:  # crewai was loaded in this process: the operator's value was kept
        monkeypatch.setitem(runtime._before, "OTEL_SDK_DISABLED", "true")
    assert build_tracing("console").provider is None
