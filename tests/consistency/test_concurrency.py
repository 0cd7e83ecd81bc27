"""Many concurrent clients (asyncio tasks on separate connections, in two OS processes) on a shared set of
flows, claiming phases, completing claimed attempts, pausing, cancelling, taking expired leases over: every
flow's history must be linearizable against the reference model, and every invariant must hold."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter, defaultdict
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from dependency_injector import providers

from domain.events import Tenant
from domain.lifecycle import Operation
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from entrypoints.testing.consistency.concurrency_worker import process_main
from entrypoints.testing.consistency.environment import STATS, without_backoff
from entrypoints.testing.consistency.invariants import Inconsistency, Tracked, check_http_views, check_stored_views
from entrypoints.testing.consistency.linearizability import Call, describe, final_state, linearize
from entrypoints.testing.consistency.model import ModelFlow, predict
from tests.support import asgi_client, owner_engine_of

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PROCESSES = 2
CLIENTS_PER_PROCESS = 4
CALLS_PER_CLIENT = 30
FLOWS = 3
UNLOCKED = "tests.consistency.bugs:UnlockedUnitOfWork"
"""The unit of work without the row lock and the version check (tests/consistency/bugs.py)."""


def run_history(settings: Settings, tenant: Tenant, flow_ids: list[UUID], unlocked: bool, seed: int) -> list[Call]:
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    start = spawn.Barrier(PROCESSES)
    workers = [
        spawn.Process(
            target=process_main,
            args=(
                settings.database.url,
                tenant,
                flow_ids,
                CLIENTS_PER_PROCESS,
                CALLS_PER_CLIENT,
                seed + n,
                UNLOCKED if unlocked else None,
                start,
                results,
            ),
        )
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    history = [call for _ in workers for call in results.get(timeout=300)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return history


async def new_flows(settings: Settings, tenant: Tenant, unlocked: bool) -> dict[UUID, ModelFlow]:
    """The shared flows and their models: all but the first started (the first races its start). Created under the
    workers' flow types (every next attempt due at once): a flow runs under the phase policies it recorded."""
    container = build_container(settings)
    container.flow_types.override(providers.Object(without_backoff(container.flow_types())))
    try:
        definition = {d.name: d for d in container.flow_types().definitions()}["discovery"]
        attempts = tuple(definition.policy_for(p).max_attempts for p in definition.phases)
        created = ModelFlow.created("discovery", definition.phases, definition.input_phases, attempts)
        flows = {}
        for i in range(FLOWS):
            mfo = container.orchestrator()
            flow = await mfo.create_flow(
                tenant, "discovery", f"race {i}", definition.example_configuration, actor="setup"
            )
            flows[flow.flow_id] = created
            if i > 0:
                await container.orchestrator().start_flow(tenant, flow.flow_id, actor="setup")
                flows[flow.flow_id] = predict(created, Operation.START).outcomes[0]
        return flows
    finally:
        await owner_engine_of(container).dispose()


async def check(
    settings: Settings, tenant: Tenant, initial: dict[UUID, ModelFlow], history: list[Call]
) -> dict[UUID, Tracked]:
    by_flow: dict[UUID, list[Call]] = defaultdict(list)
    for call in history:
        by_flow[call.flow_id].append(call)
    tracked = {}
    for flow_id, calls in by_flow.items():
        order = linearize(initial[flow_id], calls)
        if order is None:
            raise Inconsistency(
                f"the history of flow {flow_id} is not linearizable:\n"
                + "\n".join(describe(c) for c in sorted(calls, key=lambda c: c.invoked_ns))
            )
        tracked[flow_id] = Tracked(tenant, final_state(initial[flow_id], order))
    container = build_container(settings)
    try:
        await check_stored_views(container, tracked, owner_engine_of(container))
        async with asgi_client(create_app(settings, container)) as client:
            await check_http_views(client, [tenant], tracked, step=0)
    finally:
        await owner_engine_of(container).dispose()
    return tracked


async def test_concurrent_clients_are_linearizable_and_consistent(settings: Settings) -> None:
    tenant = Tenant(uuid4(), uuid4())
    initial = await new_flows(settings, tenant, unlocked=False)
    flow_ids = list(initial)
    started = time.perf_counter()
    history = await asyncio.to_thread(run_history, settings, tenant, flow_ids, False, 1)
    tracked = await check(settings, tenant, initial, history)
    elapsed = time.perf_counter() - started
    ok = sum(c.error is None for c in history)
    kinds = Counter(f"{c.operation}:{c.error or ('nothing' if c.observed is None else 'ok')}" for c in history)
    STATS.runs.append(
        f"concurrency: {len(history)} calls ({ok} ok) from {PROCESSES} processes x {CLIENTS_PER_PROCESS} clients on "
        f"{FLOWS} flows, linearizable, final versions {sorted(t.model.version for t in tracked.values())}, "
        f"{elapsed:.1f} s; " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    )
    assert ok > 0 and any(c.error for c in history)


async def purge(settings: Settings) -> None:
    """The unlocked runs leave inconsistent flows behind. ``settings`` is the harness's own database
    (tests/consistency/conftest.py), which no test outside the harness reads; the harness's later tests audit it."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(settings.database.url or "")
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE flows CASCADE"))
    await engine.dispose()


async def test_a_lost_update_or_a_double_transition_is_caught(settings: Settings) -> None:
    """Without the row lock and the version check, the same test must fail."""
    try:
        await _catch_unlocked(settings)
    finally:
        await purge(settings)


async def _catch_unlocked(settings: Settings) -> None:
    for attempt in range(3):
        tenant = Tenant(uuid4(), uuid4())
        initial = await new_flows(settings, tenant, unlocked=True)
        flow_ids = list(initial)
        history = await asyncio.to_thread(run_history, settings, tenant, flow_ids, True, 100 + attempt)
        try:
            await check(settings, tenant, initial, history)
        except Inconsistency as caught:
            STATS.runs.append(f"unlocked read-modify-write caught on attempt {attempt + 1}")
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "counterexample-unlocked.txt").write_text(f"{caught}\n")
            return
    pytest.fail("three runs without the lock and the version check went unnoticed")
