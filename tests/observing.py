"""Helpers for monitoring tests: read /metrics, capture MFO's JSON log lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client.parser import text_string_to_metric_families

from adapters.observability.logs import JsonFormatter
from tests.support import platform_headers

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(body: str) -> Series:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    return series.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client) -> Series:  # type: ignore[no-untyped-def]
    """``GET /metrics`` with the platform operator's token (the route is the platform's)."""
    response = await client.get("/metrics", headers=platform_headers())
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


class JsonLines(logging.Handler):
    """Formats each record when it is logged (inside the request's context), as the server's handler does."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    @classmethod
    @contextmanager
    def capture(cls) -> Iterator[JsonLines]:
        """Every line MFO's loggers write meanwhile."""
        handler, logger = cls(), logging.getLogger("mfo")
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            yield handler
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
