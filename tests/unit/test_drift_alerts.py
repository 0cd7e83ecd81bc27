"""The consistency monitor on fakes: drift is stored, logged and alerted; one replica audits at a time. The webhook
alert retries on a fake transport."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import httpx
import pytest

from adapters.observability.metrics import MfoMetrics
from adapters.observability.webhook import WebhookDriftAlert
from application.consistency import ConsistencyMonitor, InvalidAuditLimit
from domain.events import Tenant
from domain.ports import AuditFinding, AuditReport, AuditRun
from tests.fakes import FakeAuditLock, FakeAuditor, FakeAuditRunStore, FakeClock, FakeDriftAlert

FINDING = AuditFinding(uuid4(), Tenant(uuid4(), uuid4()), "discovery", "running", 2, ("child status complete",))
DRIFT = AuditReport(flows_checked=10, inconsistent=1, findings=[FINDING], seconds=0.01)
CLEAN = AuditReport(flows_checked=10, inconsistent=0, findings=[], seconds=0.01)


def monitor(report: AuditReport, *, taken: bool = False, interval: float = 60) -> tuple[ConsistencyMonitor, ...]:
    runs, alert, clock = FakeAuditRunStore(), FakeDriftAlert(), FakeClock()
    mon = ConsistencyMonitor(
        FakeAuditor(report), runs, clock, alert=alert, lock=FakeAuditLock(taken), interval_seconds=interval
    )
    return mon, runs, alert, clock  # type: ignore[return-value]


async def test_periodic_drift_is_stored_logged_and_alerted(caplog: pytest.LogCaptureFixture) -> None:
    mon, runs, alert, _ = monitor(DRIFT)
    with caplog.at_level(logging.ERROR, logger="mfo.consistency"):
        run = await mon.periodic_tick()
    assert run is not None and run.trigger == "periodic" and run.report.inconsistent == 1
    assert runs.runs == [run] and alert.sent == [run]
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.inconsistent_flow_ids == [str(FINDING.flow_id)]


async def test_a_clean_audit_is_stored_but_neither_logged_nor_alerted(caplog: pytest.LogCaptureFixture) -> None:
    mon, runs, alert, _ = monitor(CLEAN)
    with caplog.at_level(logging.ERROR, logger="mfo.consistency"):
        await mon.periodic_tick()
    assert len(runs.runs) == 1 and alert.sent == [] and caplog.records == []


async def test_an_operators_audit_is_stored_and_logged_but_not_alerted() -> None:
    mon, runs, alert, _ = monitor(DRIFT)
    run = await mon.audit_now("api")
    assert runs.runs == [run] and alert.sent == [] and await mon.latest() == run


async def test_no_periodic_audit_while_another_replica_holds_the_lock() -> None:
    mon, runs, alert, _ = monitor(DRIFT, taken=True)
    assert await mon.periodic_tick() is None
    assert runs.runs == [] and alert.sent == []


async def test_no_periodic_audit_when_one_ran_less_than_an_interval_ago() -> None:
    mon, runs, _, clock = monitor(CLEAN, interval=60)
    assert await mon.periodic_tick() is not None
    assert await mon.periodic_tick() is None
    clock.advance(timedelta(seconds=60))
    assert await mon.periodic_tick() is not None
    assert len(runs.runs) == 2


async def test_a_tenants_audits_are_not_stored_and_never_postpone_the_periodic_audit() -> None:
    mon, runs, alert, clock = monitor(DRIFT, interval=60)
    assert await mon.periodic_tick() is not None
    clock.advance(timedelta(seconds=60))
    for _ in range(10):
        own = await mon.audit_tenant(FINDING.tenant)
        assert own.inconsistent == 1 and own.findings == [FINDING]
    assert len(runs.runs) == 1  # the tenant's runs were stored nowhere
    again = await mon.periodic_tick()
    assert again is not None and again.trigger == "periodic" and len(alert.sent) == 2


async def test_a_tenant_sees_only_its_own_findings() -> None:
    mon, *_ = monitor(DRIFT)
    other = await mon.audit_tenant(Tenant(uuid4(), uuid4()))
    assert (other.inconsistent, other.findings) == (0, [])


async def test_an_on_demand_run_does_not_postpone_the_periodic_audit() -> None:
    mon, _, alert, clock = monitor(DRIFT, interval=60)
    assert await mon.periodic_tick() is not None
    clock.advance(timedelta(seconds=30))
    await mon.audit_now("api")  # stored, the latest, but not periodic
    clock.advance(timedelta(seconds=30))
    assert await mon.periodic_tick() is not None and len(alert.sent) == 2
    assert await mon.periodic_tick() is None  # a periodic run just ran: the next replica skips


@pytest.mark.parametrize("limit", [0, -1, 10_001])
async def test_a_limit_outside_1_to_the_maximum_is_refused_and_nothing_is_stored(limit: int) -> None:
    mon, runs, *_ = monitor(DRIFT)
    with pytest.raises(InvalidAuditLimit):
        await mon.audit_now("api", limit)
    with pytest.raises(InvalidAuditLimit):
        await mon.audit_tenant(FINDING.tenant, limit)
    assert runs.runs == []


async def test_a_small_limit_truncates_the_answer_not_the_stored_run() -> None:
    findings = [replace(FINDING, flow_id=uuid4()) for _ in range(5)]
    report = AuditReport(flows_checked=10, inconsistent=5, findings=findings, seconds=0.01)
    runs, clock = FakeAuditRunStore(), FakeClock()
    mon = ConsistencyMonitor(FakeAuditor(report), runs, clock, findings_limit=3)
    run = await mon.audit_now("api", 1)
    assert run.report.findings == findings[:1] and run.report.inconsistent == 5
    assert runs.runs[-1].report.findings == findings[:3] and runs.runs[-1].run_id == run.run_id
    assert (await mon.audit_now("api", 5)).report.findings == findings
    assert runs.runs[-1].report.findings == findings[:3]


def stored_run() -> AuditRun:
    clock = FakeClock()
    return AuditRun("periodic", clock.now(), clock.now(), DRIFT, run_id=42)


async def test_the_webhook_alert_retries_until_it_is_delivered() -> None:
    seen: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(503 if len(seen) < 3 else 204)

    metrics, sleeps = MfoMetrics(), []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    alert = WebhookDriftAlert(
        "http://alerts.test/hook", attempts=3, backoff_seconds=0.5, metrics=metrics, sleep=sleep,
        transport=httpx.MockTransport(answer),
    )  # fmt: skip
    assert await alert.send(stored_run()) is True
    assert len(seen) == 3 and sleeps == [0.5, 1.0]
    assert seen[0]["type"] == "mfo.consistency.drift" and seen[0]["run_id"] == 42
    assert seen[0]["inconsistent"] == 1 and seen[0]["findings"][0]["flow_id"] == str(FINDING.flow_id)
    assert metrics.registry.get_sample_value("mfo_drift_alerts_total", {"result": "delivered"}) == 1


async def test_the_webhook_alert_gives_up_and_logs_an_error(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400)

    async def sleep(seconds: float) -> None:
        pass

    metrics = MfoMetrics()
    alert = WebhookDriftAlert(
        "http://alerts.test/hook", attempts=5, metrics=metrics, sleep=sleep, transport=httpx.MockTransport(refuse)
    )
    with caplog.at_level(logging.ERROR, logger="mfo.alerts"):
        assert await alert.send(stored_run()) is False
    assert calls == [1]  # a 4xx is not retried
    assert any(r.getMessage() == "drift alert not delivered" for r in caplog.records)
    assert metrics.registry.get_sample_value("mfo_drift_alerts_total", {"result": "failed"}) == 1
