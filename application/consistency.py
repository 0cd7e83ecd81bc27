"""The consistency audit over time: each run stored, drift logged and alerted, one replica auditing at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable

from application.periodic import PeriodicTask
from domain.ports import AuditLock, AuditRun, AuditRunStore, Clock, ConsistencyAuditor, DriftAlert

logger = logging.getLogger("mfo.consistency")

PERIODIC = "periodic"


class ConsistencyMonitor:
    """Runs the auditor and keeps its result. Drift is logged as an error; a periodic run also sends the alert
    (an operator's own ``mfo audit`` or ``GET /api/v1/admin/consistency`` sees the result directly)."""

    def __init__(
        self,
        auditor: ConsistencyAuditor,
        runs: AuditRunStore,
        clock: Clock,
        *,
        alert: DriftAlert | None = None,
        lock: AuditLock | None = None,
        findings_limit: int = 100,
        interval_seconds: float = 0,
    ) -> None:
        self._auditor = auditor
        self._runs = runs
        self._clock = clock
        self._alert = alert
        self._lock = lock
        self._findings_limit = findings_limit
        self._interval = interval_seconds

    async def audit_now(self, trigger: str, limit: int | None = None) -> AuditRun:
        started = self._clock.now()
        report = await self._auditor.audit(self._findings_limit if limit is None else limit)
        run = await self._runs.record(AuditRun(trigger, started, self._clock.now(), report))
        if report.inconsistent:
            logger.error(
                "consistency drift: %d of %d flows inconsistent",
                report.inconsistent,
                report.flows_checked,
                extra={
                    "run_id": run.run_id,
                    "trigger": trigger,
                    "inconsistent": report.inconsistent,
                    "inconsistent_flow_ids": [str(f.flow_id) for f in report.findings[:20]],
                },
            )
            if trigger == PERIODIC and self._alert is not None:
                await self._alert.send(run)
        return run

    async def latest(self) -> AuditRun | None:
        return await self._runs.latest()

    async def periodic_tick(self) -> AuditRun | None:
        """One scheduled audit, unless another replica holds the lock or audited less than an interval ago."""
        if self._lock is None:
            return await self.audit_now(PERIODIC)
        async with self._lock.hold() as mine:
            if not mine:
                return None
            latest = await self._runs.latest()
            if latest is not None and (self._clock.now() - latest.finished_at).total_seconds() < self._interval * 0.9:
                return None
            return await self.audit_now(PERIODIC)


def periodic_audit(monitor: Callable[[], ConsistencyMonitor], interval_seconds: float) -> PeriodicTask:
    """Calls ``periodic_tick`` of a fresh monitor every ``interval_seconds`` on a background task until stopped."""
    return PeriodicTask(
        "mfo-periodic-audit",
        interval_seconds,
        lambda: monitor().periodic_tick(),
        logger=logger,
        failure="the periodic consistency audit failed",
    )
