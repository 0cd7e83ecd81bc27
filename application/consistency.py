"""The consistency audit over time: each run stored, drift logged and alerted, one replica auditing at a time.

Only system-wide runs are stored (:meth:`ConsistencyMonitor.audit_now`); a tenant's own audit
(:meth:`ConsistencyMonitor.audit_tenant`) is answered and forgotten: it is never the latest run, never alerts, and
never postpones the periodic audit. The periodic audit is postponed only by a recent *periodic* run (another
replica's), so no on-demand call, however frequent, keeps it and its drift alert from running. A stored run always
lists up to ``findings_limit`` findings, whatever ``limit`` its caller asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from application.periodic import PeriodicTask
from domain.events import Tenant
from domain.ports import AuditLock, AuditReport, AuditRun, AuditRunStore, Clock, ConsistencyAuditor, DriftAlert

logger = logging.getLogger("mfo.consistency")

PERIODIC = "periodic"
MAX_FINDINGS = 10_000
"""The most findings one call may ask for (``limit``)."""


class InvalidAuditLimit(ValueError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"limit must be between 1 and {MAX_FINDINGS}, not {limit}")


def checked_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_FINDINGS:
        raise InvalidAuditLimit(limit)
    return limit


def first_findings(report: AuditReport, limit: int) -> AuditReport:
    return replace(report, findings=report.findings[:limit])


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
        """A system-wide audit, stored with ``findings_limit`` findings; the run returned lists ``limit`` of them."""
        limit = self._findings_limit if limit is None else checked_limit(limit)
        started = self._clock.now()
        report = await self._auditor.audit(max(limit, self._findings_limit))
        stored = await self._runs.record(
            AuditRun(trigger, started, self._clock.now(), first_findings(report, self._findings_limit))
        )
        run = replace(stored, report=first_findings(report, limit))
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

    async def audit_tenant(self, tenant: Tenant, limit: int | None = None) -> AuditReport:
        """The audit of ``tenant``'s flows alone: its counts and findings. Not stored, not alerted."""
        limit = self._findings_limit if limit is None else checked_limit(limit)
        report = await self._auditor.audit(limit, tenant=tenant)
        if report.inconsistent:
            logger.warning(
                "consistency drift in a tenant's audit: %d of its %d flows inconsistent",
                report.inconsistent,
                report.flows_checked,
                extra={
                    "trigger": "tenant",
                    "inconsistent": report.inconsistent,
                    "inconsistent_flow_ids": [str(f.flow_id) for f in report.findings[:20]],
                },
            )
        return report

    async def latest(self) -> AuditRun | None:
        return await self._runs.latest()

    async def periodic_tick(self) -> AuditRun | None:
        """One scheduled audit, unless another replica holds the lock or ran the periodic audit less than an interval
        ago. An on-demand run stored since then does not count: it would let frequent calls starve the alert."""
        if self._lock is None:
            return await self.audit_now(PERIODIC)
        async with self._lock.hold() as mine:
            if not mine:
                return None
            latest = await self._runs.latest()
            if (
                latest is not None
                and latest.trigger == PERIODIC
                and (self._clock.now() - latest.finished_at).total_seconds() < self._interval * 0.9
            ):
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
