"""PeriodicTask: ticks every interval, survives a failing tick, stops when asked, and stays off at interval 0."""

from __future__ import annotations

import asyncio
import logging

from application.periodic import PeriodicTask
from tests.support import eventually


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def test_a_failing_tick_is_logged_and_the_next_one_still_runs() -> None:
    logger = logging.getLogger("mfo.test.periodic")
    recorder = Recorder()
    logger.addHandler(recorder)
    ticks: list[int] = []

    async def tick() -> None:
        ticks.append(len(ticks))
        if len(ticks) == 1:
            raise RuntimeError("first tick fails")

    task = PeriodicTask("mfo-test-tick", 0.01, tick, logger=logger, failure="the tick failed")
    try:
        task.start()
        assert "mfo-test-tick" in {t.get_name() for t in asyncio.all_tasks()}
        await eventually(lambda: len(ticks) >= 3, within=2, what="three ticks, the first one failing")
        assert task.running
    finally:
        await task.stop()
        logger.removeHandler(recorder)
    assert not task.running
    assert recorder.messages[0] == "the tick failed; trying again in 0.01 s"
    stopped_at = len(ticks)
    await asyncio.sleep(0.05)  # not waiting for a condition: five intervals in which no tick may come
    assert len(ticks) == stopped_at


async def test_interval_zero_never_starts() -> None:
    async def tick() -> None:
        raise AssertionError("must not run")

    task = PeriodicTask("off", 0, tick, logger=logging.getLogger("mfo.test.periodic"), failure="x")
    task.start()
    assert not task.running
    await task.stop()
