"""The consuming side: a pgqueuer QueueManager that hands each phase job to a handler (the orchestrator).

Leases are pgqueuer's heartbeats: while a job runs, its worker refreshes ``pgqueuer.heartbeat`` every half
``lease``; a job whose heartbeat is older than ``lease`` (its worker was killed, or lost the database) is picked
again by any worker. A handler error re-queues the job after a growing delay (pgqueuer's ``RetryRequested``), so no
job ends with its flow left running; the handler itself (``BackgroundPhaseRunner.run``,
application/phase_runner.py) counts starts and fails the flow after the configured number.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from pgqueuer.adapters.drivers.asyncpg import AsyncpgDriver
from pgqueuer.errors import RetryRequested
from pgqueuer.models import Job
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries

from adapters.persistence.database import postgres_dsn
from adapters.work_queue.outbox import ENTRYPOINT, job_from_payload
from domain.background import BackgroundRun, PhaseJob

log = logging.getLogger("mfo.worker")

PhaseHandler = Callable[[PhaseJob], Awaitable[BackgroundRun]]


@dataclass(frozen=True)
class WorkerOptions:
    lease: timedelta = timedelta(seconds=30)
    """A running job's heartbeat older than this: its worker is gone, and another worker takes the job."""
    poll: timedelta = timedelta(seconds=5)
    """The longest a worker waits between looks at the queue (NOTIFY wakes it sooner; stale jobs are found so)."""
    concurrency: int = 10
    """Jobs one worker runs at once."""
    retry_delay: timedelta = timedelta(seconds=1)
    """The first delay before a job whose handler raised runs again; it doubles per retry, up to a minute."""


def retry_delay(options: WorkerOptions, attempts: int) -> timedelta:
    return min(options.retry_delay * (2 ** min(attempts, 16)), timedelta(minutes=1))


class PhaseWorker:
    """One queue consumer: its own LISTEN/dequeue connection; each job's work goes through ``handle``."""

    def __init__(self, database_url: str, handle: PhaseHandler, options: WorkerOptions | None = None) -> None:
        self._dsn = postgres_dsn(database_url)
        self._handle = handle
        self._options = options or WorkerOptions()
        self._manager: QueueManager | None = None
        self._stopping = False

    async def run(self) -> None:
        """Consume jobs until ``stop()``. Reconnects after losing the database."""
        while not self._stopping:
            try:
                await self._run_once()
            except Exception as error:  # a consumer outlives lost connections and restarts of the database
                if self._stopping:
                    break
                log.warning("mfo worker stopped consuming (%s: %s); again in 1 s", type(error).__name__, error)
                await asyncio.sleep(1.0)

    def stop(self) -> None:
        self._stopping = True
        if self._manager is not None:
            self._manager.shutdown.set()

    async def _run_once(self) -> None:
        connection = await asyncpg.connect(self._dsn, server_settings={"application_name": "mfo-worker"})
        try:
            manager = QueueManager(Queries(AsyncpgDriver(connection)))
            manager.entrypoint(ENTRYPOINT, on_failure="hold")(self._run_job)
            self._manager = manager
            if self._stopping:
                return
            batch = max(1, self._options.concurrency // 2)
            await manager.run(
                dequeue_timeout=self._options.poll,
                batch_size=batch,
                max_concurrent_tasks=2 * batch,
                heartbeat_timeout=self._options.lease,
            )
        finally:
            self._manager = None
            await connection.close()

    async def _run_job(self, job: Job) -> None:
        phase_job = job_from_payload(job.payload)  # a payload that is no phase job is held as failed
        try:
            result = await self._handle(phase_job)
        except Exception as error:
            delay = retry_delay(self._options, job.attempts)
            log.warning(
                "phase job %s of flow %s v%s raised %s: %s; again in %s",
                job.id,
                phase_job.flow_id,
                phase_job.expected_version,
                type(error).__name__,
                error,
                delay,
            )
            raise RetryRequested(delay=delay, reason=f"{type(error).__name__}: {error}") from error
        log.info("phase job %s of flow %s v%s: %s", job.id, phase_job.flow_id, phase_job.expected_version, result)
