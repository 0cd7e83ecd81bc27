"""TelemetryObserver: the orchestrator's ``OperationObserver`` as Prometheus metrics, OpenTelemetry spans and logs.

The spans follow the delegation chain: ``mfo.orchestrator`` (one operation) → ``mfo.phase`` (the orchestrator's call
into the flow type) → ``mfo.bridge`` (the CrewAI kickoff, for bridged types) → ``mfo.adapter`` (the type's own
service). Each phase's delegation timings (``trace.timings_ms``, as the flow event records them) feed the histograms.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from uuid import UUID

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode

from adapters.observability.logs import reset_log_fields, set_log_fields
from adapters.observability.metrics import MfoMetrics
from domain.errors import DomainError
from domain.events import Tenant
from domain.idempotency import IdempotentReplay
from domain.phases import PhaseOutcome

logger = logging.getLogger("mfo.operations")

UNKNOWN = "unknown"
DELEGATION_STEPS = ("orchestrator", "bridge", "adapter")


def outcome_of(error: BaseException | None) -> str:
    """``ok``; a domain error's name in snake case (``illegal_transition``, ``flow_not_found``...); else ``error``."""
    if error is None:
        return "ok"
    if isinstance(error, IdempotentReplay):  # a retry answered from the stored answer: nothing ran
        return "idempotent_replay"
    if isinstance(error, DomainError):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()
    return "error"


def tenant_label(tenant: Tenant) -> str:
    return f"{tenant.client_account_id}/{tenant.engagement_id}"


class ObservedOperationRecord:
    def __init__(self, span: trace.Span, metrics: MfoMetrics | None, operation: str) -> None:
        self.flow_type = UNKNOWN
        self.flow_id: UUID | None = None
        self._span = span
        self._metrics = metrics
        self._operation = operation
        self._log_token: object | None = None

    def flow(self, flow_type: str, flow_id: UUID) -> None:
        self.flow_type, self.flow_id = flow_type, flow_id
        self._span.set_attribute("mfo.flow_type", flow_type)
        self._span.set_attribute("mfo.flow_id", str(flow_id))
        self._log_token = set_log_fields(flow_id=str(flow_id), flow_type=flow_type)

    def phase(self, phase: str, outcome: PhaseOutcome) -> None:
        timings = outcome.trace.get("timings_ms", {})
        if self._metrics is not None:
            if "orchestrator" in timings:
                seconds = timings["orchestrator"] / 1000
                self._metrics.phase_seconds.labels(self.flow_type, phase, str(outcome.kind)).observe(seconds)
            for step in DELEGATION_STEPS:
                if isinstance(timings.get(step), int | float):
                    self._metrics.step_seconds.labels(self.flow_type, step).observe(timings[step] / 1000)
        logger.info(
            "phase finished",
            extra={
                "operation": self._operation,
                "phase": phase,
                "phase_outcome": str(outcome.kind),
                "timings_ms": timings,
            },
        )

    def close(self) -> None:
        if self._log_token is not None:
            reset_log_fields(self._log_token)


class TelemetryObserver:
    def __init__(self, metrics: MfoMetrics | None, tracer: trace.Tracer | None = None) -> None:
        self._metrics = metrics
        self._tracer = tracer or trace.NoOpTracer()

    @contextmanager
    def operation(self, operation: str, tenant: Tenant, flow_id: UUID | None) -> Iterator[ObservedOperationRecord]:
        attributes = {"mfo.operation": operation, "mfo.tenant": tenant_label(tenant)}
        if flow_id is not None:
            attributes["mfo.flow_id"] = str(flow_id)
        started = time.perf_counter()
        error: BaseException | None = None
        token = set_log_fields(tenant=tenant_label(tenant), flow_id=str(flow_id) if flow_id else "")
        with self._tracer.start_as_current_span(
            "mfo.orchestrator", attributes=attributes, record_exception=False, set_status_on_exception=False
        ) as span:
            record = ObservedOperationRecord(span, self._metrics, operation)
            try:
                yield record
            except BaseException as raised:
                error = raised
                raise
            finally:
                outcome = outcome_of(error)
                span.set_attribute("mfo.outcome", outcome)
                if outcome not in (
                    "ok",
                    "flow_not_found",
                    "illegal_transition",
                    "version_conflict",
                    "idempotent_replay",
                ):
                    span.set_status(Status(StatusCode.ERROR, outcome))
                seconds = time.perf_counter() - started
                if self._metrics is not None:
                    self._metrics.operations.labels(record.flow_type, operation, outcome).inc()
                    self._metrics.operation_seconds.labels(record.flow_type, operation).observe(seconds)
                logger.info(
                    "operation finished",
                    extra={"operation": operation, "outcome": outcome, "duration_ms": round(seconds * 1000, 3)},
                )
                record.close()
                reset_log_fields(token)

    @contextmanager
    def span(self, name: str, **attributes: str) -> Iterator[None]:
        with self._tracer.start_as_current_span(name, attributes={f"mfo.{k}": v for k, v in attributes.items()}):
            yield

    def trace_context(self) -> dict[str, str]:
        """The current span's context as the configured propagators write it (``OTEL_PROPAGATORS``; by default W3C
        ``traceparent`` and ``tracestate``); empty when no span is recording."""
        carrier: dict[str, str] = {}
        if trace.get_current_span().get_span_context().is_valid:
            propagate.inject(carrier)
        return carrier

    @contextmanager
    def continued(self, stored: Mapping[str, str]) -> Iterator[None]:
        """The stored trace as the current context for the block (nothing changes when none was stored)."""
        if not stored:
            yield
            return
        token = otel_context.attach(propagate.extract(dict(stored)))
        try:
            yield
        finally:
            otel_context.detach(token)
