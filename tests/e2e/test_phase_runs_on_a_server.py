"""Phases run outside the request, against a real ``mfo serve`` with the sleeper flow types installed as a plugin:
an ``execute`` answers with its claim (202) at once however long the phase takes, the API stays quick while many
phases run, pause and cancel act at once on a running phase, ``Prefer: wait`` waits for the outcome, a phase's
policy times its attempts out, and the runner shares its capacity fairly between tenants.

One server (a database of this module's own, its default pool of connections, a runner of capacity 4 and at most 2
leases per tenant) serves every test; each test has tenants of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from domain.events import Tenant
from tests.e2e.processes import Fleet, MfoProcess, create_database, install_sleeper_plugin, mfo_env
from tests.support import drop_database, eventually, headers

pytestmark = pytest.mark.slow

QUICK_SECONDS = 1.0
"""How long an answer that does not wait for a phase may take (generous: the machine is shared)."""
CAPACITY, TENANT_LIMIT = 4, 2
SERVER_SETTINGS = {
    "worker_concurrency": CAPACITY,
    "worker_tenant_limit": TENANT_LIMIT,
    "worker_poll_seconds": 0.2,
    "crewai_flow_types": "",  # no crewai import: the server starts in seconds
}


@dataclass(frozen=True)
class Server:
    base_url: str
    process: MfoProcess

    def owns(self, owner: str) -> bool:
        """Whether a lease's or an attempt's owner (``host:pid:random``) is this server's runner."""
        return owner.split(":")[1] == str(self.process.process.pid)


@pytest.fixture(scope="module")
async def database(migrated_url: str) -> AsyncIterator[str]:
    url = await create_database(migrated_url)
    yield url
    await drop_database(migrated_url, url)


@pytest.fixture(scope="module")
def server(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    plugin = install_sleeper_plugin(tmp_path_factory.mktemp("plugin"))
    fleet = Fleet(mfo_env(database, plugin, **SERVER_SETTINGS), tmp_path_factory.mktemp("logs"))
    process, base = fleet.server("server")
    fleet.wait()
    try:
        yield Server(base, process)
    finally:
        fleet.stop()


@pytest.fixture(scope="module")
async def owner_engine(database: str) -> AsyncIterator[AsyncEngine]:
    """The tests' own window onto the server's database, as its owner."""
    engine = create_async_engine(database, pool_size=2)
    yield engine
    await engine.dispose()


@dataclass
class Api:
    """One tenant's calls to the server; each answer is checked to be no 5xx and kept with how long it took."""

    http: httpx.AsyncClient
    tenant: Tenant
    timings: list[tuple[str, int, float]] = field(default_factory=list)

    async def call(self, method: str, url: str, *, wait: int | None = None, json: Any = None) -> httpx.Response:
        prefer = {"Prefer": f"wait={wait}"} if wait else {}
        began = time.monotonic()
        response = await self.http.request(method, url, json=json, headers=headers(self.tenant, wait=False, **prefer))
        self.timings.append((f"{method} {url}", response.status_code, time.monotonic() - began))
        assert response.status_code < 500, (method, url, response.status_code, response.text)
        return response

    async def post(self, url: str, *, wait: int | None = None, json: Any = None) -> httpx.Response:
        return await self.call("POST", url, wait=wait, json=json)

    async def get(self, url: str) -> httpx.Response:
        return await self.call("GET", url)

    @property
    def last_seconds(self) -> float:
        return self.timings[-1][2]

    async def sleeper(self, flow_type: str = "sleeper", *, auto_run: bool | None = False, **configuration: Any) -> str:
        """A started sleeper flow (``auto_run`` None: created only): its URL."""
        created = await self.post(
            "/api/v1/flows", json={"flow_type": flow_type, "name": "nap", "configuration": configuration}
        )
        assert created.status_code == 201, created.text
        url = created.headers["location"]
        if auto_run is not None:
            started = await self.post(f"{url}/start", json={"auto_run": auto_run})
            assert started.status_code == 200, started.text
        return url  # type: ignore[no-any-return]

    async def flow(self, url: str) -> dict[str, Any]:
        response = await self.get(url)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient, tenant: Tenant) -> Api:
    return Api(client, tenant)


def phase_state(flow: dict[str, Any], phase: str) -> str:
    return next(p["state"] for p in flow["phases"] if p["name"] == phase)


def began(path: Path) -> bool:
    """Whether the sleeper's first phase has begun (its handler wrote its pid there)."""
    return path.exists() and path.read_text() != ""


# -- the API stays quick while phases run --------------------------------------------------------------------------


async def test_25_slow_phases_executed_at_once_are_claimed_at_once_and_the_api_stays_quick(
    api: Api, server: Server, owner_engine: AsyncEngine, tmp_path: Path
) -> None:
    cancelled = tmp_path / "cancelled"
    flows = await asyncio.gather(
        *(api.sleeper(seconds={"first": 20}, cancelled_file=str(cancelled)) for _ in range(25))
    )

    async def execute(url: str) -> tuple[httpx.Response, float]:
        began_at = time.monotonic()
        response = await api.post(f"{url}/execute")  # no Prefer: the claim, at once
        return response, time.monotonic() - began_at

    for response, seconds in await asyncio.gather(*(execute(url) for url in flows)):
        assert response.status_code == 202, response.text
        assert seconds < QUICK_SECONDS, f"an execute took {seconds:.2f} s"
        assert "preference-applied" not in response.headers
        body = response.json()
        assert (body["status"], body["current_phase"]) == ("running", "first")
        running = body["running_phase"]
        assert (running["phase"], running["attempt"], running["retry_at"]) == ("first", 1, None)
        assert running["run_id"] and running["started_at"] and running["running_seconds"] >= 0
        assert "execute_phase" not in body["allowed_operations"]

    seen: dict[str, float] = {}
    for round_ in range(3):  # the first flow in every round, five others once each
        for url in [flows[0], *flows[1 + round_ * 5 : 6 + round_ * 5]]:
            status = await api.get(f"{url}/status")
            assert status.status_code == 200 and api.last_seconds < QUICK_SECONDS, api.timings[-1]
            running = status.json()["running_phase"]
            assert (running["phase"], running["attempt"]) == ("first", 1)
            lease = running["lease"]
            assert server.owns(lease["owner"]) and lease["expired"] is False
            assert datetime.fromisoformat(lease["expires_at"]) > datetime.fromisoformat(running["started_at"])
            assert running["running_seconds"] > seen.get(url, -1), (url, running, seen)
            seen[url] = running["running_seconds"]
        await asyncio.sleep(0.2)  # between rounds: the first flow's running_seconds must have grown

    async with owner_engine.connect() as connection:  # while the 25 handlers sleep
        connections = (
            await connection.execute(
                text(
                    "SELECT count(*) AS app, count(*) FILTER (WHERE xact_start < now() - interval '1 second') AS held"
                    " FROM pg_stat_activity WHERE datname = current_database() AND usename = 'mfo_app'"
                )
            )
        ).one()
        leases = (await connection.execute(text("SELECT count(*) FROM phase_leases"))).scalar_one()
    assert connections.held == 0, "a running handler holds a transaction open"
    assert connections.app <= 20, connections  # MFO_DB_POOL_SIZE 10 and its overflow of 10: not exhausted
    assert leases == 25

    for answer in await asyncio.gather(*(api.post(f"{url}/cancel") for url in flows)):
        assert answer.status_code == 200 and answer.json()["status"] == "cancelled", answer.text
        assert answer.json()["running_phase"] is None
    await eventually(
        lambda: cancelled.exists() and len(cancelled.read_text().splitlines()) == 25,
        within=10,
        what="every handler cancelled",
    )
    assert set(cancelled.read_text().splitlines()) == {f"first {server.process.process.pid}"}
    assert max(seconds for _, _, seconds in api.timings) < 10  # nothing waited for a pooled connection


# -- pause, cancel and execute while a phase runs ------------------------------------------------------------------


async def test_pause_while_a_phase_runs_keeps_its_result_and_starts_no_next_phase_until_resumed(
    api: Api, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    url = await api.sleeper(auto_run=True, seconds={"first": 2}, pid_file=str(pid_file))
    await eventually(lambda: began(pid_file), within=10, what="the runner running the first phase")

    paused = await api.post(f"{url}/pause")
    assert paused.status_code == 200 and api.last_seconds < QUICK_SECONDS, api.timings[-1]
    assert paused.json()["status"] == "paused"
    assert paused.json()["running_phase"]["phase"] == "first"  # the attempt goes on

    async def first_phase_ended() -> dict[str, Any] | None:
        flow = await api.flow(url)
        return flow if flow["running_phase"] is None else None

    flow = await eventually(first_phase_ended, within=10, what="the first phase ending")
    assert flow["status"] == "paused"
    assert (phase_state(flow, "first"), phase_state(flow, "second")) == ("completed", "pending")
    assert flow["phase_results"]["first"]["pid"] == int(pid_file.read_text())
    await asyncio.sleep(1)  # five polls of the runner: none may start the next phase of a paused flow
    assert await api.flow(url) == flow

    resumed = await api.post(f"{url}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"

    async def completed() -> dict[str, Any] | None:
        flow = await api.flow(url)
        return flow if flow["status"] == "completed" else None

    done = await eventually(completed, within=10, what="the flow going on after resume")
    events = (await api.get(f"{url}/events")).json()["items"]
    assert [e["operation"] for e in events] == [
        "create",
        "start",
        "execute_phase",
        "pause",
        "complete_phase",  # the first phase's result, the flow still paused
        "resume",
        "execute_phase",
        "complete_phase",
    ]
    assert [e["to_status"] for e in events][3:5] == ["paused", "paused"]
    assert done["version"] == len(events)


async def test_cancel_while_a_phase_runs_cancels_its_handler_and_discards_its_end(
    api: Api, server: Server, tmp_path: Path
) -> None:
    pid_file, cancelled = tmp_path / "pid", tmp_path / "cancelled"
    url = await api.sleeper(seconds={"first": 20}, pid_file=str(pid_file), cancelled_file=str(cancelled))
    claimed = await api.post(f"{url}/execute")
    assert claimed.status_code == 202, claimed.text
    run_id = claimed.json()["running_phase"]["run_id"]
    await eventually(lambda: began(pid_file), within=10, what="the handler beginning")

    answer = await api.post(f"{url}/cancel")
    assert answer.status_code == 200 and api.last_seconds < QUICK_SECONDS, api.timings[-1]
    cancelled_flow = answer.json()
    assert cancelled_flow["status"] == "cancelled" and cancelled_flow["running_phase"] is None
    await eventually(lambda: cancelled.exists(), within=5, what="the handler cancelled")
    assert cancelled.read_text() == f"first {server.process.process.pid}\n"

    async def discarded() -> dict[str, Any] | None:
        [attempt] = (await api.get(f"{url}/attempts")).json()["items"]
        assert attempt["result"] in ("revoked", "discarded"), attempt
        return attempt if attempt["result"] == "discarded" else None

    # revoked by the cancel; then the handler's end (its cancellation) arrives late, and is only discarded
    attempt = await eventually(discarded, within=10, what="the late end of the attempt discarded")
    assert (attempt["run_id"], attempt["phase"], attempt["attempt"]) == (run_id, "first", 1)
    assert server.owns(attempt["owner"]) and attempt["ended_at"] is not None
    assert "cancelled" in attempt["detail"]
    after = await api.flow(url)
    assert (after["version"], after["status"], after["phases"]) == (
        cancelled_flow["version"],
        "cancelled",
        cancelled_flow["phases"],
    )
    assert (await api.get(f"{url}/status")).json()["running_phase"] is None


async def test_a_second_execute_while_the_phase_runs_is_a_409_naming_the_running_phase(api: Api) -> None:
    url = await api.sleeper(seconds={"first": 20})
    assert (await api.post(f"{url}/execute")).status_code == 202
    again = await api.post(f"{url}/execute")
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    problem = again.json()
    assert (problem["requested_operation"], problem["current_status"]) == ("execute_phase", "running")
    assert problem["reason"] == "phase 'first' is running (attempt 1)"
    assert "phase 'first' is running" in problem["detail"]
    named = await api.post(f"{url}/execute", json={"phase": "second"})
    assert named.status_code == 409 and named.json()["reason"] == problem["reason"]
    flow = await api.flow(url)
    assert flow["version"] == 3 and flow["running_phase"]["attempt"] == 1  # neither changed anything
    assert (await api.post(f"{url}/cancel")).status_code == 200


# -- Prefer: wait ---------------------------------------------------------------------------------------------------


async def test_prefer_wait_answers_with_the_outcome_when_the_phase_ends_in_time(api: Api) -> None:
    quick = await api.sleeper(seconds={"first": 0.1})
    answer = await api.post(f"{quick}/execute", wait=5)
    assert answer.status_code == 200, answer.text
    assert answer.headers["preference-applied"] == "wait=5"
    flow = answer.json()
    assert (flow["status"], flow["current_phase"], flow["running_phase"], flow["version"]) == (
        "running",
        "second",
        None,
        4,
    )
    assert phase_state(flow, "first") == "completed" and "pid" in flow["phase_results"]["first"]
    assert answer.headers["etag"] == '"4"'


async def test_prefer_wait_answers_with_the_claim_when_the_phase_takes_longer(api: Api) -> None:
    slow = await api.sleeper(seconds={"first": 3})
    answer = await api.post(f"{slow}/execute", wait=1)
    assert answer.status_code == 202, answer.text
    assert 0.9 < api.last_seconds < 2.5, api.timings[-1]  # it waited the second it was allowed, no more
    assert answer.json()["running_phase"]["phase"] == "first" and answer.json()["version"] == 3

    async def first_completed() -> bool:
        return phase_state(await api.flow(slow), "first") == "completed"

    await eventually(first_completed, within=10, what="the phase going on after the 202")


# -- the schema -----------------------------------------------------------------------------------------------------


async def test_the_openapi_schema_documents_200_and_202_for_execute_and_retry(api: Api) -> None:
    schema = (await api.get("/schema/openapi.json")).json()
    phase_runs = {
        path: operation["post"]
        for path, operation in schema["paths"].items()
        if path.endswith(("/execute", "/retry")) and "post" in operation
    }
    assert set(phase_runs) == {
        f"{prefix}/{{flow_id}}/{action}"
        for prefix in ("/api/v1/flows", "/api/v1/discovery/flows", "/api/v1/unified-discovery/flows")
        for action in ("execute", "retry")
    }
    for path, operation in phase_runs.items():
        assert {"200", "202"} <= set(operation["responses"]), path
    for action, operation_id in (("execute", "executePhase"), ("retry", "retryFlow")):
        unified = phase_runs[f"/api/v1/flows/{{flow_id}}/{action}"]
        assert unified["operationId"] == operation_id
        assert "Prefer: wait" in unified["description"]


# -- a phase's policy ------------------------------------------------------------------------------------------------


async def test_a_phase_whose_attempts_time_out_fails_after_its_policy_s_attempts(
    api: Api, server: Server, tmp_path: Path
) -> None:
    cancelled = tmp_path / "cancelled"
    url = await api.sleeper("sleeper_strict", seconds={"first": 5}, cancelled_file=str(cancelled))
    assert (await api.post(f"{url}/execute")).status_code == 202

    async def failed() -> dict[str, Any] | None:
        flow = await api.flow(url)
        return flow if flow["status"] == "failed" else None

    # a timeout of 1 s, then 0.2 s of backoff, then the second (and last) attempt's 1 s
    flow = await eventually(failed, within=15, what="the flow failed")
    timed_out = "phase 'first' timed out after 1 s"
    assert flow["error"] == (
        f"phase 'first' failed after 2 attempts (attempt 1: {timed_out}; attempt 2: {timed_out}); "
        "POST .../retry runs it again"
    )
    assert phase_state(flow, "first") == "failed" and flow["running_phase"] is None
    attempts = (await api.get(f"{url}/attempts")).json()["items"]
    assert [(a["phase"], a["attempt"], a["result"], a["detail"]) for a in attempts] == [
        ("first", 2, "failed", timed_out),
        ("first", 1, "retrying", timed_out),
    ]
    assert all(server.owns(a["owner"]) for a in attempts)
    assert cancelled.read_text().splitlines() == [f"first {server.process.process.pid}"] * 2  # both cut short
    events = (await api.get(f"{url}/events")).json()["items"]
    # the attempt claimed through the API ends as its claimant's (no X-Actor: anonymous); the runner claimed the next
    assert [(e["operation"], e["actor"]) for e in events][2:] == [
        ("execute_phase", "anonymous"),
        ("complete_phase", "anonymous"),
        ("reattempt_phase", "worker"),
        ("complete_phase", "worker"),
    ]


# -- fairness -------------------------------------------------------------------------------------------------------


async def test_a_small_tenant_is_served_while_a_big_tenant_s_flows_wait(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    big, small = Api(client, Tenant(uuid4(), uuid4())), Api(client, Tenant(uuid4(), uuid4()))
    created = [await big.sleeper(auto_run=None, seconds={"first": 1}) for _ in range(20)]
    most_leases: dict[Tenant, int] = {big.tenant: 0, small.tenant: 0}
    watching = True

    async def watch_leases() -> None:
        while watching:
            async with owner_engine.connect() as connection:
                rows = await connection.execute(
                    text("SELECT client_account_id, engagement_id, count(*) FROM phase_leases GROUP BY 1, 2")
                )
                for account, engagement, held in rows:
                    tenant = Tenant(account, engagement)
                    if tenant in most_leases:
                        most_leases[tenant] = max(most_leases[tenant], held)
            await asyncio.sleep(0.05)  # a look every 50 ms: every lease of a 1 s phase is seen

    watcher = asyncio.create_task(watch_leases())
    try:
        for answer in await asyncio.gather(*(big.post(f"{url}/start", json={"auto_run": True}) for url in created)):
            assert answer.status_code == 200, answer.text
        small_flow = await small.sleeper(auto_run=True, seconds={"first": 1})

        async def small_completed() -> bool:
            return (await small.flow(small_flow))["status"] == "completed"

        await eventually(small_completed, within=15, what="the small tenant's flow completing")
        big_flows = [await big.flow(url) for url in created]
        not_begun = [flow for flow in big_flows if phase_state(flow, "first") == "pending"]
        assert len(not_begun) >= 5, [flow["phases"] for flow in big_flows]  # most still waiting their turn
        assert any(flow["status"] != "completed" for flow in big_flows)

        async def big_completed() -> bool:
            return all(flow["status"] == "completed" for flow in [await big.flow(url) for url in created])

        await eventually(big_completed, within=60, what="every flow of the big tenant completing", every=0.5)
    finally:
        watching = False
        await watcher
    assert most_leases[big.tenant] == TENANT_LIMIT, most_leases  # its share, never more
    assert most_leases[small.tenant] == 1
