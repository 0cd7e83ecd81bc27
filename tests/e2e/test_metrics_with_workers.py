"""``mfo serve --workers 2``: whichever worker answers /metrics reports every worker's operations, and the server's
log lines are JSON carrying the request id."""

from __future__ import annotations

import json

import httpx
import pytest

from domain.events import Tenant
from tests.e2e.server import real_server
from tests.observing import parse, value
from tests.support import DISCOVERY_CSV, TEST_JWT_SECRET, eventually_sync, headers, platform_headers

pytestmark = pytest.mark.slow

CREATES = 8


def test_two_workers_report_the_same_counts_and_log_json(migrated_url: str, tenant: Tenant) -> None:
    # No crewai import at start-up (the bridge's metrics are tested in-process); a fresh multiprocess folder.
    settings = {"MFO_AUTH_MODE": "dev", "MFO_JWT_SECRET": TEST_JWT_SECRET, "MFO_AUDIT_INTERVAL_SECONDS": "0",
                "MFO_CREWAI_FLOW_TYPES": ""}  # fmt: skip
    with real_server(
        migrated_url, "--workers", "2", unset=("PROMETHEUS_MULTIPROC_DIR",), keep_log=True, **settings
    ) as s:
        eventually_sync(  # the second worker has finished starting too (each logs its start-up)
            lambda: s.log.read_text(errors="replace").count("Application startup complete") >= 2,
            within=120,
            what="both workers started",
            detail=s.log_tail,
        )
        body = {"flow_type": "discovery", "name": "w", "configuration": {"data": DISCOVERY_CSV}}
        for i in range(CREATES):  # a new connection each time, so the requests spread over the workers
            response = httpx.post(
                f"{s.base_url}/api/v1/flows", json=body, headers=headers(tenant, **{"X-Request-ID": f"worker-test-{i}"})
            )
            assert response.status_code == 201 and response.headers["x-request-id"] == f"worker-test-{i}"
        created = {"flow_type": "discovery", "operation": "create", "outcome": "ok"}
        scrapes = [parse(httpx.get(f"{s.base_url}/metrics", headers=platform_headers()).text) for _ in range(6)]
        assert [value(scrape, "mfo_operations_total", **created) for scrape in scrapes] == [CREATES] * 6
    try:
        lines = [json.loads(line) for line in s.log.read_text().splitlines() if line.startswith("{")]
    finally:
        s.log.unlink()
    ours = [line for line in lines if str(line.get("request_id", "")).startswith("worker-test-")]
    assert {line["message"] for line in ours} >= {"operation finished", "request finished"}
    assert all(line["tenant"] == f"{tenant.client_account_id}/{tenant.engagement_id}" for line in ours)
    assert any(line["logger"].startswith("uvicorn") for line in lines)
