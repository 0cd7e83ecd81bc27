"""Deleting expired idempotency keys: every ``MFO_IDEMPOTENCY_PURGE_INTERVAL_SECONDS`` in the server, or once with
``mfo purge-keys``. Expired keys are already ignored by claims; this only keeps the table small."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

logger = logging.getLogger("mfo.idempotency")


async def purge_once(container: Any) -> int:
    """Delete every expired key, in batches (one transaction each); the number deleted."""
    total = 0
    while True:
        purged = await container.maintenance_orchestrator().purge_expired_idempotency_keys(limit=10_000)
        total += purged
        if purged < 10_000:
            return total


class IdempotencyKeyPurger:
    """A background task of the server's event loop; ``interval_seconds`` 0 switches it off."""

    def __init__(self, container: Any, interval_seconds: int) -> None:
        self._container = container
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._interval > 0:
            self._task = asyncio.create_task(self._run(), name="mfo-idempotency-purge")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                purged = await purge_once(self._container)
            except Exception:  # a failed purge is retried at the next interval; requests are unaffected
                logger.exception("purging expired idempotency keys failed")
                continue
            if purged:
                logger.info("purged %d expired idempotency keys", purged)
