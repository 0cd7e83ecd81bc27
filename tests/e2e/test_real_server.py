"""A few checks against a real server process (uvicorn), over a real socket."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from domain.events import Tenant
from entrypoints.local_postgres import free_port
from tests.support import DISCOVERY_CSV, headers


@pytest.fixture(scope="module")
def server(migrated_url: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "MFO_DATABASE_URL": migrated_url, "MFO_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the server did not start:\n{process.stdout.read().decode() if process.stdout else ''}")
        time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=30)


def test_create_and_drive_a_flow_over_a_socket(server: str, tenant: Tenant) -> None:
    with httpx.Client(base_url=server, headers=headers(tenant), timeout=10) as http:
        created = http.post(
            "/api/v1/flows", json={"flow_type": "discovery", "name": "real", "configuration": {"data": DISCOVERY_CSV}}
        )
        assert created.status_code == 201
        location = created.headers["location"]
        assert location == f"/api/v1/flows/{created.json()['flow_id']}"
        started = http.post(f"{location}/start")
        assert started.status_code == 200 and started.headers["etag"] == '"2"'
        paused = http.post(f"{location}/pause", headers={"If-Match": '"2"'})
        assert paused.json()["status"] == "paused"
        again = http.post(f"{location}/pause")
        assert again.status_code == 409
        assert again.headers["content-type"].startswith("application/problem+json")
        assert http.get(f"{location}/status").json()["in_sync"] is True
