"""Background phase jobs on PostgreSQL, through pgqueuer: the outbox write and the consuming worker."""

from adapters.work_queue.outbox import ENTRYPOINT, PgQueuerWorkQueue, background_phase_attempts
from adapters.work_queue.worker import PhaseWorker, WorkerOptions

__all__ = ["ENTRYPOINT", "PgQueuerWorkQueue", "PhaseWorker", "WorkerOptions", "background_phase_attempts"]
