"""ConsistencyMonitor and periodic_audit on fakes: the limit asked of the auditor, the run stored, the drift logged,
when a periodic tick audits, and the background task that ticks."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from uuid import uuid4

import pytest

from application.consistency import ConsistencyMonitor, InvalidAuditLimit, checked_limit, periodic_audit
from domain.events import Tenant
from domain.ports import AuditFinding, AuditReport
from tests.fakes import FakeAuditLock, FakeAuditor, FakeAuditRunStore, FakeClock, FakeDriftAlert

TENANT = Tenant(uuid4(), uuid4())
FINDINGS = [AuditFinding(uuid4(), TENANT, "discovery", "running", 2, ("child status complete",)) for _ in range(25)]
DRIFT = AuditReport(flows_checked=40, inconsistent=25, findings=FINDINGS, seconds=0.01)
CLEAN = AuditReport(flows_checked=40, inconsistent=0, findings=[], seconds=0.01)


async def test_the_auditor_is_asked_for_100_findings_by_default_or_the_configured_or_a_larger_given_limit() -> None:
    auditor, clock = FakeAuditor(DRIFT), FakeClock()
    await ConsistencyMonitor(auditor, FakeAuditRunStore(), clock).audit_now("api")
    runs = FakeAuditRunStore()
    configured = ConsistencyMonitor(auditor, runs, clock, findings_limit=7)
    await configured.audit_now("api")
    fewer = await configured.audit_now("api", limit=3)
    more = await configured.audit_now("api", limit=12)
    assert auditor.limits == [100, 7, 7, 12]  # the stored run always gets its configured 7
    assert (len(fewer.report.findings), len(more.report.findings)) == (3, 12)
    assert [len(run.report.findings) for run in runs.runs] == [7, 7, 7]


async def test_the_run_is_stored_with_its_trigger_start_and_end() -> None:
    runs, clock = FakeAuditRunStore(), FakeClock()
    run = await ConsistencyMonitor(FakeAuditor(CLEAN), runs, clock).audit_now("cli")
    assert runs.runs == [run]
    assert (run.trigger, run.report.flows_checked, run.run_id) == ("cli", 40, 1)
    assert run.started_at is not None and run.started_at < run.finished_at <= clock.now()


async def test_drift_is_logged_with_the_run_trigger_count_and_at_most_20_flow_ids(
    caplog: pytest.LogCaptureFixture,
) -> None:
    monitor = ConsistencyMonitor(FakeAuditor(DRIFT), FakeAuditRunStore(), FakeClock())
    with caplog.at_level(logging.ERROR, logger="mfo.consistency"):
        run = await monitor.audit_now("api")
    (record,) = caplog.records
    assert record.getMessage() == "consistency drift: 25 of 40 flows inconsistent"
    assert (record.run_id, record.trigger, record.inconsistent) == (run.run_id, "api", 25)
    assert record.inconsistent_flow_ids == [str(f.flow_id) for f in FINDINGS[:20]]


async def test_without_a_lock_every_periodic_tick_audits_and_alerts_as_periodic() -> None:
    runs, alert = FakeAuditRunStore(), FakeDriftAlert()
    monitor = ConsistencyMonitor(FakeAuditor(DRIFT), runs, FakeClock(), alert=alert, interval_seconds=60)
    first, second = await monitor.periodic_tick(), await monitor.periodic_tick()
    assert first is not None and second is not None
    assert [r.trigger for r in runs.runs] == ["periodic", "periodic"]
    assert alert.sent == [first, second]


async def test_with_a_lock_and_no_interval_a_periodic_tick_audits_even_right_after_another() -> None:
    runs = FakeAuditRunStore()
    monitor = ConsistencyMonitor(FakeAuditor(CLEAN), runs, FakeClock(), lock=FakeAuditLock())
    assert await monitor.periodic_tick() is not None
    assert await monitor.periodic_tick() is not None
    assert len(runs.runs) == 2


async def test_a_periodic_tick_audits_once_nine_tenths_of_the_interval_have_passed() -> None:
    runs, clock = FakeAuditRunStore(), FakeClock()
    monitor = ConsistencyMonitor(FakeAuditor(CLEAN), runs, clock, lock=FakeAuditLock(), interval_seconds=100)
    assert await monitor.periodic_tick() is not None
    clock.advance(timedelta(seconds=90) - timedelta(milliseconds=2))  # the fake clock ticks 1 ms per reading
    assert await monitor.periodic_tick() is None
    assert await monitor.periodic_tick() is not None  # now exactly 90 s after the first run finished
    assert runs.runs[1].started_at - runs.runs[0].finished_at == timedelta(seconds=90, milliseconds=1)


async def test_the_periodic_audit_task_ticks_a_fresh_monitor_and_logs_a_failing_tick(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs, clock = FakeAuditRunStore(), FakeClock()
    built = 0

    def monitor() -> ConsistencyMonitor:
        nonlocal built
        built += 1
        if built == 1:
            raise RuntimeError("no database yet")
        return ConsistencyMonitor(FakeAuditor(CLEAN), runs, clock)

    task = periodic_audit(monitor, 0.01)
    with caplog.at_level(logging.ERROR, logger="mfo.consistency"):
        task.start()
        try:
            assert "mfo-periodic-audit" in {t.get_name() for t in asyncio.all_tasks()}
            for _ in range(200):
                if len(runs.runs) >= 2:
                    break
                await asyncio.sleep(0.01)
        finally:
            await task.stop()
    assert len(runs.runs) >= 2 and built == len(runs.runs) + 1  # one monitor per tick, the first one failed
    assert all(run.trigger == "periodic" for run in runs.runs)
    failure = caplog.records[0]
    assert failure.getMessage() == "the periodic consistency audit failed; trying again in 0.01 s"
    assert failure.exc_info is not None and str(failure.exc_info[1]) == "no database yet"


@pytest.mark.parametrize("limit", [1, 10_000])
async def test_a_limit_from_1_to_10000_is_taken_and_its_refusal_names_the_bounds(limit: int) -> None:
    auditor, runs = FakeAuditor(DRIFT), FakeAuditRunStore()
    monitor = ConsistencyMonitor(auditor, runs, FakeClock(), findings_limit=1)
    assert len((await monitor.audit_now("api", limit)).report.findings) == min(limit, 25)
    assert len((await monitor.audit_tenant(TENANT, limit)).findings) == min(limit, 25)
    assert auditor.limits == [limit, limit] and auditor.tenants == [None, TENANT]
    with pytest.raises(InvalidAuditLimit) as raised:
        await monitor.audit_now("api", 0)
    assert (raised.value.limit, str(raised.value)) == (0, "limit must be between 1 and 10000, not 0")
    assert checked_limit(limit) == limit


async def test_a_tenants_audit_asks_for_the_configured_findings_and_logs_its_drift_as_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    auditor = FakeAuditor(DRIFT)
    monitor = ConsistencyMonitor(auditor, FakeAuditRunStore(), FakeClock(), findings_limit=30)
    with caplog.at_level(logging.WARNING, logger="mfo.consistency"):
        report = await monitor.audit_tenant(TENANT)
    assert auditor.limits == [30] and auditor.tenants == [TENANT]
    assert (report.inconsistent, len(report.findings)) == (25, 25)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "consistency drift in a tenant's audit: 25 of its 40 flows inconsistent"
    assert (record.trigger, record.inconsistent) == ("tenant", 25)
    assert record.inconsistent_flow_ids == [str(f.flow_id) for f in FINDINGS[:20]]


async def test_a_clean_tenants_audit_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    monitor = ConsistencyMonitor(FakeAuditor(DRIFT), FakeAuditRunStore(), FakeClock())
    with caplog.at_level(logging.DEBUG, logger="mfo.consistency"):
        report = await monitor.audit_tenant(Tenant(uuid4(), uuid4()))
    assert report.inconsistent == 0 and caplog.records == []
