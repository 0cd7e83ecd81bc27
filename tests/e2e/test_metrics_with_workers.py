"""``mfo serve --workers 2``: whichever worker answers /metrics reports every worker's operations, and the server's
log lines are JSON carrying the request id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from domain.events import Tenant
from entrypoints.local_postgres import free_port
from tests.observing import parse, value
from tests.support import DISCOVERY_CSV, headers

pytestmark = pytest.mark.slow

CREATES = 8


def test_two_workers_report_the_same_counts_and_log_json(migrated_url: str, tenant: Tenant) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(MFO_DATABASE_URL=migrated_url, MFO_PORT=str(port), MFO_AUTH_MODE="dev", MFO_AUDIT_INTERVAL_SECONDS="0")
    env.update(
        MFO_CREWAI_FLOW_TYPES=""
    )  # start-up without importing crewai; the bridge's metrics are tested in-process
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)
        time.sleep(5)  # let the second worker finish starting too
        body = {"flow_type": "discovery", "name": "w", "configuration": {"data": DISCOVERY_CSV}}
        for i in range(CREATES):  # a new connection each time, so the requests spread over the workers
            response = httpx.post(
                f"{base}/api/v1/flows", json=body, headers=headers(tenant, **{"X-Request-ID": f"worker-test-{i}"})
            )
            assert response.status_code == 201 and response.headers["x-request-id"] == f"worker-test-{i}"
        created = {"flow_type": "discovery", "operation": "create", "outcome": "ok"}
        seen = [value(parse(httpx.get(f"{base}/metrics").text), "mfo_operations_total", **created) for _ in range(6)]
        assert seen == [CREATES] * 6
    finally:
        process.terminate()
        _, err = process.communicate(timeout=60)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    ours = [line for line in lines if str(line.get("request_id", "")).startswith("worker-test-")]
    assert {line["message"] for line in ours} >= {"operation finished", "request finished"}
    assert all(line["tenant"] == f"{tenant.client_account_id}/{tenant.engagement_id}" for line in ours)
    assert any(line["logger"].startswith("uvicorn") for line in lines)
