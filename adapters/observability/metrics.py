"""MFO's Prometheus metrics.

Counters and histograms are updated in the process that did the work. With several uvicorn workers, set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before the server starts (``mfo serve --workers N`` does so by
itself): prometheus-client then keeps every worker's values in files there and :meth:`MfoMetrics.render` adds them
up, so any worker answers ``/metrics`` for all of them. The gauges (queue, audit) are not kept in the process at all:
they are read from PostgreSQL at scrape time (:mod:`adapters.observability.scrape`), so every replica reports the same.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

STEP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class MfoMetrics:
    """Every metric MFO updates as it works, on a registry of its own (so tests can build as many as they like)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.operations = Counter(
            "mfo_operations",
            "Orchestrator operations, by flow type, operation and outcome (ok, or the error they ended with).",
            ["flow_type", "operation", "outcome"],
            registry=r,
        )
        self.operation_seconds = Histogram(
            "mfo_operation_duration_seconds",
            "Time of a whole orchestrator operation (one transaction), by flow type and operation.",
            ["flow_type", "operation"],
            buckets=STEP_BUCKETS,
            registry=r,
        )
        self.phase_seconds = Histogram(
            "mfo_phase_duration_seconds",
            "Time to run one phase, by flow type, phase and outcome (completed, needs_input, failed).",
            ["flow_type", "phase", "outcome"],
            buckets=STEP_BUCKETS,
            registry=r,
        )
        self.step_seconds = Histogram(
            "mfo_delegation_step_duration_seconds",
            "Time spent in each delegation step of a phase: orchestrator (the whole call), bridge, adapter.",
            ["flow_type", "step"],
            buckets=STEP_BUCKETS,
            registry=r,
        )
        self.legacy_hits = Counter(
            "mfo_legacy_route_hits",
            "Calls to the deprecated legacy routes, by family, route template and method.",
            ["family", "route", "method"],
            registry=r,
        )
        self.http_requests = Counter(
            "mfo_http_requests",
            "HTTP requests answered, by method, route template (unmatched: no route) and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_request_seconds = Histogram(
            "mfo_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and route template.",
            ["method", "route"],
            buckets=STEP_BUCKETS,
            registry=r,
        )
        self.drift_alerts = Counter(
            "mfo_drift_alerts",
            "Drift alerts sent to the webhook, by result (delivered, failed).",
            ["result"],
            registry=r,
        )

    def legacy_hits_recorder(self, family: str, route: str, method: str) -> None:
        self.legacy_hits.labels(family, route, method).inc()

    def http_request_recorder(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_request_seconds.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        """The text exposition of this process's metrics, or of every worker's in multi-process mode."""
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        return generate_latest(registry)
