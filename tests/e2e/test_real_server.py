"""A few checks against a real server process (uvicorn), over a real socket."""

from __future__ import annotations

import httpx

from domain.events import Tenant
from tests.support import DISCOVERY_CSV, auth_headers


def test_create_and_drive_a_flow_over_a_socket(server: str, tenant: Tenant) -> None:
    with httpx.Client(base_url=server, headers=auth_headers(tenant), timeout=10) as http:
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


def test_a_request_without_credentials_is_refused(server: str) -> None:
    refused = httpx.get(f"{server}/api/v1/flows", timeout=10)
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{server}/health", timeout=10).status_code == 200
