"""``GET /metrics``: Prometheus's text format. The process's (or every worker's) counters and histograms, then the
gauges read from PostgreSQL (queue, latest consistency audit), at most once per ``MFO_METRICS_CACHE_SECONDS``.

The platform operator's route: a platform bearer token or API key (``mfo api-key create --platform``), even though it
lies outside ``/api/v1``."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State

from domain.auth import Role
from entrypoints.http.auth import ROLE

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    tags=["monitoring"],
    include_in_schema=False,
    opt={ROLE: Role.PLATFORM},
)
async def prometheus_metrics(state: State) -> Response[bytes]:
    container = state.container
    body = container.metrics().render() + await container.database_gauges().render()
    return Response(content=body, media_type=PROMETHEUS_TEXT)
