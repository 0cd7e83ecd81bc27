"""One OS process of concurrent clients: asyncio tasks, each on its own pooled connection, calling the
orchestrator on a shared set of flows and recording every call (invoke, then ok or fail, with timestamps)."""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any
from uuid import UUID

from domain.events import Tenant
from domain.lifecycle import Operation
from entrypoints.container import Container
from tests.consistency.entry_points import PythonEntry
from tests.consistency.linearizability import Call
from tests.support import owner_engine_of

# Cancel is rare, so that most of the history races on live flows.
WEIGHTED_OPERATIONS = (
    [Operation.START]
    + [Operation.EXECUTE_PHASE] * 6
    + [Operation.SUBMIT_INPUT] * 3
    + [Operation.PAUSE] * 5
    + [Operation.RESUME] * 5
)
INPUTS = {"field_mapping": {"approved": True, "mappings": {}}}


async def _client(
    name: str, entry: PythonEntry, tenant: Tenant, flows: list[UUID], calls: int, seed: int
) -> list[Call]:
    rng = random.Random(seed)
    seen_version: dict[UUID, int] = {}
    history = []
    for _ in range(calls):
        flow_id = rng.choice(flows)
        operation = Operation.CANCEL if rng.random() < 0.01 else rng.choice(WEIGHTED_OPERATIONS)
        expected = seen_version.get(flow_id) if rng.random() < 0.25 else None
        payload = INPUTS["field_mapping"] if operation == Operation.SUBMIT_INPUT else None
        invoked = time.monotonic_ns()
        outcome = await entry.operate(tenant, flow_id, operation, payload, expected)
        returned = time.monotonic_ns()
        if outcome.ok and outcome.observed:
            seen_version[flow_id] = outcome.observed[1]
        history.append(Call(name, flow_id, operation, expected, invoked, returned, outcome.error, outcome.observed))
    return history


async def run_clients(
    container: Container, tenant: Tenant, flows: list[UUID], clients: int, calls: int, seed: int
) -> list:
    entry = PythonEntry(container)
    prefix = f"p{os.getpid()}"
    results = await asyncio.gather(
        *(_client(f"{prefix}-c{i}", entry, tenant, flows, calls, seed * 100 + i) for i in range(clients))
    )
    return [call for history in results for call in history]


def process_main(
    database_url: str,
    tenant: Tenant,
    flows: list[UUID],
    clients: int,
    calls: int,
    seed: int,
    unlocked: bool,
    results: Any,
) -> None:
    """Entry point of a worker process (spawned): build a container of its own, run the clients, report."""
    from dependency_injector import providers

    from entrypoints.container import build_container
    from entrypoints.settings import DatabaseSettings, Settings

    settings = Settings(database=DatabaseSettings(url=database_url, pool_size=clients, max_overflow=2))
    container = build_container(settings)
    if unlocked:
        from tests.consistency.faults import UnlockedUnitOfWork

        container.unit_of_work.override(providers.Factory(UnlockedUnitOfWork, database=container.app_database))

    async def main() -> list[Call]:
        try:
            return await run_clients(container, tenant, flows, clients, calls, seed)
        finally:
            await owner_engine_of(container).dispose()

    results.put(asyncio.run(main()))
