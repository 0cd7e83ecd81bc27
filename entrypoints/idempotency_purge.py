"""Deleting expired idempotency keys: every ``MFO_IDEMPOTENCY_PURGE_INTERVAL_SECONDS`` in the server, or once with
``mfo purge-keys``. Expired keys are already ignored by claims; this only keeps the table small."""

from __future__ import annotations

import logging
from collections.abc import Callable

from application.orchestrator import MasterFlowOrchestrator
from application.periodic import PeriodicTask

logger = logging.getLogger("mfo.idempotency")


Maintenance = Callable[[], MasterFlowOrchestrator]
"""A fresh orchestrator on the schema owner's unit of work (it purges the keys of every tenant)."""


async def purge_once(maintenance: Maintenance) -> int:
    """Delete every expired key, in batches (one transaction each); the number deleted."""
    total = 0
    while True:
        purged = await maintenance().purge_expired_idempotency_keys(limit=10_000)
        total += purged
        if purged < 10_000:
            return total


def idempotency_key_purger(maintenance: Maintenance, interval_seconds: int) -> PeriodicTask:
    """A background task of the server's event loop; ``interval_seconds`` 0 switches it off. A failed purge is
    retried at the next interval; requests are unaffected."""

    async def purge() -> None:
        purged = await purge_once(maintenance)
        if purged:
            logger.info("purged %d expired idempotency keys", purged)

    return PeriodicTask(
        "mfo-idempotency-purge",
        interval_seconds,
        purge,
        logger=logger,
        failure="purging expired idempotency keys failed",
    )
