"""The database gauges of ``/metrics``, read from PostgreSQL at most once per interval, however often it is scraped.

A scrape within ``ttl_seconds`` of the last read gets that read's values; scrapes that arrive while a read is
running wait for it instead of starting their own. So a storm of scrapes costs one set of gauge queries per
interval and per process. ``ttl_seconds`` 0: every scrape reads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from prometheus_client import CollectorRegistry, generate_latest

from adapters.observability.scrape import GaugeValues, Snapshot


class GaugeSource(Protocol):
    async def read(self) -> GaugeValues: ...


class CachedGauges:
    def __init__(
        self, source: GaugeSource, ttl_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._source = source
        self._ttl = ttl_seconds
        self._clock = clock
        self._values: GaugeValues | None = None
        self._read_at = 0.0
        self._reading: asyncio.Future[GaugeValues] | None = None

    async def read(self) -> GaugeValues:
        if self._values is not None and self._clock() - self._read_at < self._ttl:
            return self._values
        reading = self._reading
        if reading is None or reading.get_loop() is not asyncio.get_running_loop():
            reading = self._reading = asyncio.ensure_future(self._refresh())
        return await asyncio.shield(reading)

    async def _refresh(self) -> GaugeValues:
        try:
            values = await self._source.read()
            self._values, self._read_at = values, self._clock()
            return values
        finally:
            self._reading = None

    async def render(self) -> bytes:
        registry = CollectorRegistry()
        registry.register(Snapshot(await self.read()))
        return generate_latest(registry)
