"""The database gauges behind /metrics are read once per interval, however many scrapes arrive."""

from __future__ import annotations

import asyncio

from adapters.observability.gauge_cache import CachedGauges
from adapters.observability.scrape import GaugeValues


class CountingGauges:
    """A gauge source that counts its reads (each would be one round of gauge queries)."""

    def __init__(self) -> None:
        self.reads = 0

    async def read(self) -> GaugeValues:
        self.reads += 1
        await asyncio.sleep(0.01)  # a read takes a while: scrapes arriving meanwhile must wait for it
        return {"mfo_queue_depth": ("Jobs waiting.", float(self.reads))}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_rapid_scrapes_read_the_database_once_per_interval() -> None:
    source, clock = CountingGauges(), Clock()
    gauges = CachedGauges(source, ttl_seconds=5, clock=clock)
    together = await asyncio.gather(*(gauges.render() for _ in range(20)))  # a storm of concurrent scrapes
    one_by_one = [await gauges.render() for _ in range(20)]
    assert source.reads == 1
    assert len(set(together + one_by_one)) == 1 and b"mfo_queue_depth 1.0" in together[0]
    clock.now += 4.9
    await gauges.read()
    assert source.reads == 1
    clock.now += 0.2
    assert (await gauges.read())["mfo_queue_depth"][1] == 2.0 and source.reads == 2


async def test_no_interval_reads_at_every_scrape() -> None:
    source = CountingGauges()
    gauges = CachedGauges(source, ttl_seconds=0)
    for _ in range(3):
        await gauges.read()
    assert source.reads == 3
