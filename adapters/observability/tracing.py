"""OpenTelemetry tracing: off unless an exporter is named, configured by the SDK's standard environment variables.

Which exporter: ``MFO_OTEL_EXPORTER`` (``console`` or ``otlp``, OTLP over HTTP) when it names one; otherwise the
standard ``OTEL_TRACES_EXPORTER`` (a comma-separated list: ``console``, ``otlp``, ``otlp_proto_http``,
``otlp_proto_grpc``, ``none``, or any exporter installed under the SDK's ``opentelemetry_traces_exporter`` entry
points); neither: no export. The rest is the SDK's own handling of its variables: ``OTEL_SERVICE_NAME`` and
``OTEL_RESOURCE_ATTRIBUTES`` (the resource; ``MFO_OTEL_SERVICE_NAME`` names the service only when they do not),
``OTEL_TRACES_SAMPLER`` and its argument, ``OTEL_EXPORTER_OTLP_*`` (endpoint, headers, protocol, timeout),
``OTEL_BSP_*`` (the batch processor) and ``OTEL_SDK_DISABLED=true`` (no tracing at all). ``OTEL_PROPAGATORS`` selects
the propagators that read ``traceparent`` from requests and write the trace a claim stores (the API's global
propagator reads it).

MFO keeps its own ``TracerProvider`` instead of installing a global one, so nothing else in the process (crewai
included) can switch MFO's export on or off.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib.metadata import entry_points

from opentelemetry import trace
from opentelemetry.environment_variables import OTEL_TRACES_EXPORTER
from opentelemetry.sdk.environment_variables import (
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    OTEL_RESOURCE_ATTRIBUTES,
    OTEL_SDK_DISABLED,
    OTEL_SERVICE_NAME,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, SpanExporter

from adapters.crewai_bridge.runtime import environment_before_crewai

EXPORTERS = ("none", "console", "otlp")
"""What ``MFO_OTEL_EXPORTER`` may name."""
EXPORTER_ENTRY_POINTS = "opentelemetry_traces_exporter"


class Tracing:
    """The tracer MFO's spans come from, and the provider behind it (``None`` when tracing is off)."""

    def __init__(self, provider: TracerProvider | None, exporters: Sequence[str] = ()) -> None:
        self.provider = provider
        self.exporters = tuple(exporters)
        """The names of the exporters spans go to."""
        self.tracer: trace.Tracer = provider.get_tracer("mfo") if provider else trace.NoOpTracer()

    @classmethod
    def with_processor(cls, processor: SpanProcessor, service_name: str = "mfo") -> Tracing:
        """Tracing to ``processor`` (tests pass an in-memory exporter's), whatever ``OTEL_SDK_DISABLED`` says."""
        return cls.with_processors([processor], service_name)

    @classmethod
    def with_processors(
        cls, processors: Sequence[SpanProcessor], service_name: str = "mfo", names: Sequence[str] = ()
    ) -> Tracing:
        # The CrewAI runtime sets OTEL_SDK_DISABLED=true for the whole process to keep crewai offline
        # (adapters/crewai_bridge/runtime.py); the SDK would then make this provider a no-op.
        disabled = os.environ.pop(OTEL_SDK_DISABLED, None)
        try:
            provider = TracerProvider(resource=Resource.create(_service_attributes(service_name)))
        finally:
            if disabled is not None:
                os.environ[OTEL_SDK_DISABLED] = disabled
        for processor in processors:
            provider.add_span_processor(processor)
        return cls(provider, names)

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def _service_attributes(service_name: str) -> dict[str, str]:
    """MFO's service name, unless the standard variables name one (the SDK's resource detector reads them)."""
    named = os.environ.get(OTEL_SERVICE_NAME) or "service.name=" in os.environ.get(OTEL_RESOURCE_ATTRIBUTES, "")
    return {} if named else {"service.name": service_name}


def sdk_disabled() -> bool:
    """``OTEL_SDK_DISABLED`` as the operator set it (not the value the CrewAI runtime sets for crewai)."""
    return (environment_before_crewai(OTEL_SDK_DISABLED) or "").strip().lower() == "true"


def exporter_names(exporter: str) -> list[str]:
    """``MFO_OTEL_EXPORTER`` when it names an exporter, else ``OTEL_TRACES_EXPORTER``'s list (``none`` dropped)."""
    if exporter not in EXPORTERS:
        raise SystemExit(f"MFO_OTEL_EXPORTER must be one of {', '.join(EXPORTERS)}, not {exporter!r}")
    if exporter == "otlp":
        return ["otlp_proto_http"]
    if exporter != "none":
        return [exporter]
    listed = os.environ.get(OTEL_TRACES_EXPORTER, "")
    return [name.strip().lower() for name in listed.split(",") if name.strip() and name.strip().lower() != "none"]


def _span_exporter(name: str) -> SpanExporter:
    if name == "otlp":  # the SDK's name for OTLP in its configured protocol (http/protobuf unless grpc is asked for)
        protocol = os.environ.get(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) or os.environ.get(OTEL_EXPORTER_OTLP_PROTOCOL)
        name = "otlp_proto_grpc" if (protocol or "").strip() == "grpc" else "otlp_proto_http"
    found = {point.name: point for point in entry_points(group=EXPORTER_ENTRY_POINTS)}
    if name not in found:
        known = ", ".join(sorted({"otlp", "none", *found}))
        hint = " (pip install opentelemetry-exporter-otlp-proto-http)" if name.startswith("otlp") else ""
        raise SystemExit(f"no OpenTelemetry span exporter {name!r} installed{hint}; installed: {known}")
    exporter: SpanExporter = found[name].load()()  # each reads its own OTEL_EXPORTER_* variables
    return exporter


def build_tracing(exporter: str, service_name: str = "mfo") -> Tracing:
    names = exporter_names(exporter)
    if not names or sdk_disabled():
        return Tracing(None)
    processors: list[SpanProcessor] = [
        SimpleSpanProcessor(ConsoleSpanExporter()) if name == "console" else BatchSpanProcessor(_span_exporter(name))
        for name in names
    ]
    return Tracing.with_processors(processors, service_name, names)
