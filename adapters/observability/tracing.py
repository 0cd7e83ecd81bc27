"""OpenTelemetry tracing: off unless ``MFO_OTEL_EXPORTER`` names an exporter.

MFO keeps its own ``TracerProvider`` instead of installing a global one, so nothing else in the process (crewai
included) can switch MFO's export on or off. ``otlp`` uses ``opentelemetry-exporter-otlp-proto-http``, imported only
when asked for; it reads the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_HEADERS`` variables.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.environment_variables import OTEL_SDK_DISABLED
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

EXPORTERS = ("none", "console", "otlp")


class Tracing:
    """The tracer MFO's spans come from, and the provider behind it (``None`` when tracing is off)."""

    def __init__(self, provider: TracerProvider | None) -> None:
        self.provider = provider
        self.tracer: trace.Tracer = provider.get_tracer("mfo") if provider else trace.NoOpTracer()

    @classmethod
    def with_processor(cls, processor: SpanProcessor, service_name: str = "mfo") -> Tracing:
        # The CrewAI runtime sets OTEL_SDK_DISABLED=true for the whole process to keep crewai offline
        # (adapters/crewai_bridge/runtime.py); MFO's own tracing is switched by MFO_OTEL_EXPORTER alone.
        disabled = os.environ.pop(OTEL_SDK_DISABLED, None)
        try:
            provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        finally:
            if disabled is not None:
                os.environ[OTEL_SDK_DISABLED] = disabled
        provider.add_span_processor(processor)
        return cls(provider)

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def build_tracing(exporter: str, service_name: str = "mfo") -> Tracing:
    if exporter == "none":
        return Tracing(None)
    if exporter == "console":
        return Tracing.with_processor(SimpleSpanProcessor(ConsoleSpanExporter()), service_name)
    if exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:  # pragma: no cover - depends on what is installed
            raise SystemExit(
                "MFO_OTEL_EXPORTER=otlp needs the OTLP exporter: pip install opentelemetry-exporter-otlp-proto-http"
            ) from None
        return Tracing.with_processor(BatchSpanProcessor(OTLPSpanExporter()), service_name)
    raise SystemExit(f"MFO_OTEL_EXPORTER must be one of {', '.join(EXPORTERS)}, not {exporter!r}")
