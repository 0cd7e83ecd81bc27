"""PeriodicTask: one job of the server's event loop, repeated every interval until the server stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


class PeriodicTask:
    """Awaits ``tick()`` every ``interval_seconds`` (0 switches it off) on a background task until stopped.

    A tick that raises is logged with ``failure`` and tried again at the next interval: what the task does (an
    audit, a purge) must never stop the server or the task itself.
    """

    def __init__(
        self,
        name: str,
        interval_seconds: float,
        tick: Callable[[], Awaitable[object]],
        *,
        logger: logging.Logger,
        failure: str,
    ) -> None:
        self._name = name
        self._interval = interval_seconds
        self._tick = tick
        self._logger = logger
        self._failure = failure
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._interval > 0 and not self.running:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._tick()
            except Exception:
                self._logger.exception("%s; trying again in %s s", self._failure, self._interval)
