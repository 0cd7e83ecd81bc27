"""A rolling deploy that changes MFO_CREWAI_FLOW_TYPES: two real ``mfo serve`` processes on one database, one with
the CrewAI bridge off and one with it on, serving the same discovery flows in turn. Each flow keeps the engine it
was created with whichever server moves it on, every flow is consistent after every step as both servers see it,
and ``mfo audit`` is clean at the end."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from domain.events import Tenant
from tests.e2e.processes import REPOSITORY
from tests.e2e.server import real_server
from tests.support import DISCOVERY_CSV, DISCOVERY_INPUTS, drop_database, headers, migrated_database

FLOWS_PER_SERVER = 3


@pytest.fixture(scope="module")
async def rolling_database(settings) -> Any:  # type: ignore[no-untyped-def]
    server = settings.database.url
    url = await migrated_database(server, "mfo_rolling")
    yield url
    await drop_database(server, url)


@pytest.fixture(scope="module")
def servers(rolling_database: str) -> Iterator[dict[str, str]]:
    """``old``: the bridge off for every type (MFO_CREWAI_FLOW_TYPES empty); ``new``: the default (discovery)."""
    dev = {"MFO_AUTH_MODE": "dev", "MFO_WORKER_IN_SERVE": "false"}
    with (
        real_server(rolling_database, MFO_CREWAI_FLOW_TYPES="", **dev) as old,
        real_server(rolling_database, MFO_CREWAI_FLOW_TYPES="discovery", **dev) as new,
    ):
        yield {"old": old.base_url, "new": new.base_url}


def call(base: str, method: str, path: str, tenant: Tenant, body: Any = None) -> httpx.Response:
    return httpx.request(method, f"{base}/api/v1{path}", json=body, headers=headers(tenant), timeout=60)


def next_step(base: str, tenant: Tenant, flow: dict[str, Any]) -> dict[str, Any]:
    flow_id = flow["flow_id"]
    if flow["status"] == "initialized":
        response = call(base, "POST", f"/flows/{flow_id}/start", tenant)
    elif flow["status"] == "waiting_for_input":
        response = call(base, "POST", f"/flows/{flow_id}/input", tenant, DISCOVERY_INPUTS[flow["current_phase"]])
    else:
        response = call(base, "POST", f"/flows/{flow_id}/execute", tenant)
    assert response.status_code == 200, response.text
    return response.json()


def consistent_on_both(servers: dict[str, str], tenant: Tenant, flow: dict[str, Any], bridged: bool) -> None:
    for name, base in servers.items():
        response = call(base, "GET", f"/flows/{flow['flow_id']}/status", tenant)
        assert response.status_code == 200, response.text
        status = response.json()
        assert status["in_sync"], (name, status)
        mirrors = status["child"]["mirrors"] if status["child"] else {}
        assert ("crewai" in mirrors) is bridged, (name, mirrors)
        if bridged:
            completed = sorted(p["name"] for p in status["phases"] if p["state"] == "completed")
            assert sorted(mirrors["crewai"]["completed_phases"]) == completed, (name, mirrors)


def test_two_servers_with_different_bridge_settings_serve_the_same_flows(servers, rolling_database) -> None:  # type: ignore[no-untyped-def]
    tenant = Tenant(uuid4(), uuid4())
    flows: list[tuple[dict[str, Any], bool]] = []
    for name, bridged in (("old", False), ("new", True)):
        for n in range(FLOWS_PER_SERVER):
            created = call(
                servers[name],
                "POST",
                "/flows",
                tenant,
                {"flow_type": "discovery", "name": f"{name}-{n}", "configuration": {"data": DISCOVERY_CSV}},
            )
            assert created.status_code == 201, created.text
            assert created.json()["contract"]["bridged"] is bridged
            flows.append((created.json(), bridged))
    order = ["new", "old"]
    for round_number in range(12):  # create, start, six phases and an input: every flow ends completed
        for index, (flow, bridged) in enumerate(flows):
            if flow["status"] == "completed":
                continue
            base = servers[order[(round_number + index) % 2]]  # every flow moves between the two servers
            flow = next_step(base, tenant, flow)
            assert flow["contract"]["bridged"] is bridged
            consistent_on_both(servers, tenant, flow, bridged)
            flows[index] = (flow, bridged)
    assert [f["status"] for f, _ in flows] == ["completed"] * len(flows)

    environment = {**os.environ, "MFO_DATABASE_URL": rolling_database, "MFO_CREWAI_FLOW_TYPES": "discovery"}
    for setting in ("discovery", ""):  # the audit reads each flow's contract, whatever its own setting
        audit = subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", "audit"],
            env={**environment, "MFO_CREWAI_FLOW_TYPES": setting},
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert audit.returncode == 0, audit.stdout + audit.stderr
