"""Every HTTP request as a Prometheus observation and an OpenTelemetry server span, labelled by its route template.

The span continues the trace the request names (``traceparent``/``tracestate``, or whatever ``OTEL_PROPAGATORS``
selects: the API's global propagator reads that variable), so the orchestrator's spans, and the phase a claim
starts in the background (its ``PhaseRun`` carries the trace on), are part of the caller's trace.

The labels are bounded: the route template (``/api/v1/flows/{flow_id}``, never the raw path), ``unmatched`` for a
path no route serves or a method it does not (404, 405, 431), the method when it is one of RFC 9110's and ``_OTHER``
otherwise, and the status. This wraps the router (:class:`entrypoints.http.edge.EdgeCheckedLitestar`), so requests
Litestar refuses before any middleware runs are counted too.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from litestar.types import Message, Receive, Scope, Send
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode

STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
OTHER_METHOD = "_OTHER"
UNMATCHED = "unmatched"


class HttpMetrics(Protocol):
    def http_request_recorder(self, method: str, route: str, status: int, seconds: float) -> None: ...


class _HeaderGetter(Getter[dict[str, str]]):
    def get(self, carrier: dict[str, str], key: str) -> list[str] | None:
        value = carrier.get(key.lower())
        return None if value is None else [value]

    def keys(self, carrier: dict[str, str]) -> list[str]:
        return list(carrier)


HEADER_GETTER = _HeaderGetter()


def header_carrier(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers}


def method_label(method: str) -> str:
    return method if method in STANDARD_METHODS else OTHER_METHOD


class RequestTelemetry:
    def __init__(self, metrics: HttpMetrics, tracer: Callable[[], trace.Tracer]) -> None:
        self._metrics = metrics
        self._tracer = tracer

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, app: Callable[[Scope, Receive, Send], Awaitable[None]]
    ) -> None:
        method = method_label(scope["method"])
        status = 500  # what the server answers when the app sends nothing
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        parent = propagate.extract(header_carrier(scope["headers"]), getter=HEADER_GETTER)
        attributes = {"http.request.method": method, "url.path": scope["path"], "url.scheme": scope["scheme"]}
        with self._tracer().start_as_current_span(
            method, context=parent, kind=SpanKind.SERVER, attributes=attributes, record_exception=True
        ) as span:
            try:
                await app(scope, receive, send_with_status)
            finally:
                route = scope.get("path_template") or UNMATCHED
                if route != UNMATCHED:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                self._metrics.http_request_recorder(method, route, status, time.perf_counter() - started)
