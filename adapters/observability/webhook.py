"""Drift alerts: a JSON POST to a webhook, retried with exponential back-off."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from adapters.observability.metrics import MfoMetrics
from adapters.persistence.audit_runs import finding_json
from domain.ports import AuditRun

logger = logging.getLogger("mfo.alerts")

RETRIED_STATUSES = {408, 425, 429}


def alert_body(run: AuditRun) -> dict[str, Any]:
    report = run.report
    return {
        "type": "mfo.consistency.drift",
        "summary": f"{report.inconsistent} of {report.flows_checked} flows are inconsistent",
        "run_id": run.run_id,
        "trigger": run.trigger,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat(),
        "flows_checked": report.flows_checked,
        "inconsistent": report.inconsistent,
        "findings": [finding_json(f) for f in report.findings],
        "latest": "/api/v1/admin/consistency/latest",
    }


class WebhookDriftAlert:
    def __init__(
        self,
        url: str,
        *,
        attempts: int = 3,
        timeout_seconds: float = 5.0,
        backoff_seconds: float = 1.0,
        metrics: MfoMetrics | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._attempts = max(attempts, 1)
        self._timeout = timeout_seconds
        self._backoff = backoff_seconds
        self._metrics = metrics
        self._sleep = sleep
        self._transport = transport

    async def send(self, run: AuditRun) -> bool:
        body = alert_body(run)
        headers = {"Idempotency-Key": f"mfo-audit-run-{run.run_id}", "User-Agent": "mfo-drift-alert"}
        async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client:
            for attempt in range(1, self._attempts + 1):
                try:
                    response = await client.post(self._url, json=body, headers=headers)
                except httpx.HTTPError as error:
                    reason = f"{type(error).__name__}: {error}"
                else:
                    if response.is_success:
                        logger.info("drift alert delivered", extra={"run_id": run.run_id, "attempt": attempt})
                        self._count("delivered")
                        return True
                    reason = f"HTTP {response.status_code}"
                    if response.status_code < 500 and response.status_code not in RETRIED_STATUSES:
                        break  # the receiver refuses it; trying again will not help
                if attempt == self._attempts:
                    break
                logger.warning(
                    "drift alert attempt failed; retrying",
                    extra={"run_id": run.run_id, "attempt": attempt, "reason": reason},
                )
                await self._sleep(self._backoff * 2 ** (attempt - 1))
        logger.error("drift alert not delivered", extra={"run_id": run.run_id, "url": self._url, "reason": reason})
        self._count("failed")
        return False

    def _count(self, result: str) -> None:
        if self._metrics is not None:
            self._metrics.drift_alerts.labels(result).inc()
