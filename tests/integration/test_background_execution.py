"""Background execution on real PostgreSQL: the outbox row commits with its state change, and a worker drives flows."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from sqlalchemy import text

from adapters.persistence.database import postgres_dsn
from adapters.work_queue import ENTRYPOINT
from domain.background import PhaseJob
from domain.events import Tenant
from domain.lifecycle import FlowStatus
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings, WorkerSettings
from tests.support import DISCOVERY_CSV, eventually, owner_engine_of

MAPPINGS = {
    "hostname": "name",
    "type": "asset_type",
    "os": "os",
    "os_version": "os_version",
    "env": "environment",
    "depends_on": "depends_on",
}


async def queued_jobs(container: Container, flow_id: UUID) -> list[dict[str, Any]]:
    async with owner_engine_of(container).connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT status::text AS status, entrypoint, payload FROM pgqueuer WHERE dedupe_key LIKE :key"),
                {"key": f"phase:{flow_id}:%"},
            )
        ).mappings()
        return [{**row, "payload": json.loads(row["payload"])} for row in rows]


async def test_an_auto_run_start_writes_its_job_in_the_same_transaction(container: Container, tenant: Tenant) -> None:
    mfo = container.orchestrator
    flow = await mfo().create_flow(tenant, "discovery", "outbox", {"data": DISCOVERY_CSV}, actor="t")
    assert await queued_jobs(container, flow.flow_id) == []
    started = await mfo().start_flow(tenant, flow.flow_id, actor="t", auto_run=True)
    assert started.auto_run and (await mfo().get_flow(tenant, flow.flow_id)).auto_run
    [job] = await queued_jobs(container, flow.flow_id)
    assert job["status"] == "queued" and job["entrypoint"] == ENTRYPOINT
    assert job["payload"] == {
        "client_account_id": str(tenant.client_account_id),
        "engagement_id": str(tenant.engagement_id),
        "flow_id": str(flow.flow_id),
        "expected_version": 2,
    }


async def test_a_job_is_not_seen_or_announced_before_its_transaction_commits(
    container: Container, settings: Settings, tenant: Tenant
) -> None:
    flow = await container.orchestrator().create_flow(tenant, "discovery", "atomic", {"data": DISCOVERY_CSV}, actor="t")
    job = PhaseJob(tenant, flow.flow_id, 1)
    listener = await asyncpg.connect(postgres_dsn(settings.database.url or ""))
    notified: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener("ch_pgqueuer", lambda *args: notified.put_nowait(args[-1]))
    try:
        async with container.unit_of_work() as uow:
            await uow.scope(tenant)  # row-level security: the tenant first
            await uow.flows.get_for_update(tenant, flow.flow_id)
            await uow.work_queue.enqueue_phase(job)
            await asyncio.sleep(0.3)  # not waiting for a condition: gives a premature NOTIFY time to arrive
            assert await queued_jobs(container, flow.flow_id) == []  # another connection sees nothing yet
            assert notified.empty()
            # leaving without a commit rolls the job back
        assert await queued_jobs(container, flow.flow_id) == []
        assert notified.empty()
        async with container.unit_of_work() as uow:
            await uow.scope(tenant)  # row-level security: the tenant first
            await uow.work_queue.enqueue_phase(job)
            await uow.commit()
        assert [j["status"] for j in await queued_jobs(container, flow.flow_id)] == ["queued"]
        message = json.loads(await asyncio.wait_for(notified.get(), timeout=5))
        assert (message["table"], message["operation"]) == ("pgqueuer", "insert")
    finally:
        await listener.close()


async def test_attempts_are_counted_per_flow_version(container: Container, tenant: Tenant) -> None:
    flow = await container.orchestrator().create_flow(tenant, "discovery", "count", {"data": DISCOVERY_CSV}, actor="t")
    job = PhaseJob(tenant, flow.flow_id, 7)
    for expected in (1, 2):
        async with container.unit_of_work() as uow:
            await uow.scope(tenant)  # row-level security: the tenant first
            assert await uow.work_queue.record_attempt(job) == expected
            await uow.commit()
    async with container.unit_of_work() as uow:
        await uow.scope(tenant)  # row-level security: the tenant first
        assert await uow.work_queue.record_attempt(dataclasses.replace(job, expected_version=8)) == 1
        await uow.work_queue.clear_attempts(job)
        assert await uow.work_queue.record_attempt(job) == 1


@pytest.fixture
async def worker_container(settings: Settings) -> AsyncIterator[Any]:
    fast = dataclasses.replace(settings, worker=WorkerSettings(poll_seconds=0.5, lease_seconds=5))
    container = build_container(fast)
    worker = container.phase_worker()
    task = asyncio.create_task(worker.run())
    yield container
    worker.stop()
    await asyncio.wait_for(task, timeout=15)
    await owner_engine_of(container).dispose()


def flow_in(container: Container, tenant: Tenant, flow_id: UUID, status: FlowStatus) -> Callable[[], Awaitable[Any]]:
    """A condition for :func:`eventually`: the flow, once it is in ``status``."""

    async def condition() -> Any:
        flow = await container.orchestrator().get_flow(tenant, flow_id)
        assert flow.status == status, f"flow {flow_id} is {flow.status}"
        return flow

    return condition


async def test_a_worker_runs_discovery_to_the_input_and_on_to_completion(
    worker_container: Container, tenant: Tenant
) -> None:
    mfo = worker_container.orchestrator
    flow = await mfo().create_flow(tenant, "discovery", "bg", {"data": DISCOVERY_CSV}, actor="alice")
    await mfo().start_flow(tenant, flow.flow_id, actor="alice", auto_run=True)
    waiting = await eventually(
        flow_in(worker_container, tenant, flow.flow_id, FlowStatus.WAITING_FOR_INPUT), within=20, what="input awaited"
    )
    assert waiting.current_phase == "field_mapping"
    await mfo().submit_input(tenant, flow.flow_id, {"approved": True, "mappings": MAPPINGS}, actor="alice")
    done = await eventually(
        flow_in(worker_container, tenant, flow.flow_id, FlowStatus.COMPLETED), within=20, what="the flow completed"
    )
    events = await mfo().get_flow_events(tenant, flow.flow_id)
    assert [e.actor for e in events] == ["alice", "alice", "worker", "worker", "alice"] + ["worker"] * 4
    assert done.version == len(events) == 9
    assert (await mfo().get_flow_status(tenant, flow.flow_id)).in_sync
    report = await worker_container.auditor().audit()
    assert flow.flow_id not in {f.flow_id for f in report.findings}
    async with owner_engine_of(worker_container).connect() as connection:
        left = await connection.scalar(
            text("SELECT count(*) FROM background_phase_attempts WHERE flow_id = :id"), {"id": flow.flow_id}
        )
    assert left == 0


async def test_start_over_http_takes_auto_run_and_refuses_a_bad_body(
    settings: Settings, container: Container, tenant: Tenant
) -> None:
    from entrypoints.http.app import create_app
    from tests.support import asgi_client, headers

    async with asgi_client(create_app(settings, container)) as client:
        h = headers(tenant)
        flows = []
        for _ in range(3):
            created = await client.post(
                "/api/v1/flows", json={"flow_type": "discovery", "name": "http", "configuration": {}}, headers=h
            )
            flows.append(created.headers["location"])
        for body in ({"auto_run": "yes"}, {"auto_run": True, "later": 1}):
            refused = await client.post(f"{flows[0]}/start", json=body, headers=h)
            assert 400 <= refused.status_code < 500, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
        plain = await client.post(f"{flows[1]}/start", headers=h)
        assert plain.status_code == 200 and plain.json()["auto_run"] is False
        auto = await client.post(f"{flows[2]}/start", json={"auto_run": True}, headers=h)
        assert auto.status_code == 200 and auto.json()["auto_run"] is True
        assert (await client.get(flows[2], headers=h)).json()["auto_run"] is True
    assert await queued_jobs(container, UUID(flows[1].rsplit("/", 1)[-1])) == []
    assert [
        j["payload"]["expected_version"] for j in await queued_jobs(container, UUID(flows[2].rsplit("/", 1)[-1]))
    ] == [2]
