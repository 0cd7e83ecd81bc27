"""``GET /metrics``: Prometheus's text format. The process's (or every worker's) counters and histograms, then the
gauges read from PostgreSQL at this scrape (queue, latest consistency audit)."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@get("/metrics", operation_id="metrics", summary="Prometheus metrics", tags=["monitoring"], include_in_schema=False)
async def prometheus_metrics(state: State) -> Response[bytes]:
    container = state.container
    body = container.metrics().render() + await container.database_gauges().render()
    return Response(content=body, media_type=PROMETHEUS_TEXT)
