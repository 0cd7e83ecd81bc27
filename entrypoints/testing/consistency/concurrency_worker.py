"""One OS process of concurrent clients: asyncio tasks, each on its own pooled connection, calling the
orchestrator on a shared set of flows and recording every call (invoke, then ok or fail, with timestamps).

Besides a client's operations, the clients drive phase execution a part at a time, as runners do: they claim
phases (each client is its claims' owner), complete claimed attempts (their own or another client's of the same
process, now or after other calls, sometimes twice), claim due work, expire a lease and take its attempt over, and
read. So claims, pauses, cancels and completions of the same flow race each other across processes."""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from domain.background import ClaimedRun, DueWork
from domain.events import Tenant
from domain.lifecycle import FlowStatus, Operation
from entrypoints.container import Container
from entrypoints.testing.consistency.entry_points import Outcome, PythonEntry, observed_from_flow
from entrypoints.testing.consistency.linearizability import Call, Step
from entrypoints.testing.consistency.model import End
from entrypoints.testing.consistency.phase_parts import PhaseParts

# Cancel is rare, so that most of the history races on live flows.
WEIGHTED_OPERATIONS: list[str] = (
    [Operation.START]
    + [Step.CLAIM] * 6
    + [Step.COMPLETE] * 10
    + [Operation.SUBMIT_INPUT] * 3
    + [Operation.PAUSE] * 2
    + [Operation.RESUME] * 2
    + [Operation.RETRY] * 2
    + [Step.CLAIM_DUE] * 2
    + [Step.TAKE_OVER]
    + [Step.READ]
)
ENDS = [End.HANDLER] * 12 + [End.FAILED, End.RETRY_DUE, End.RETRY_DUE, End.GAVE_UP]  # none later: it would wait an hour
INPUTS = {"field_mapping": {"approved": True, "mappings": {}}}
_EXPIRE = text(
    "UPDATE phase_leases SET expires_at = now() - interval '1 second' WHERE flow_id = :flow_id RETURNING run_id"
)


class Client:
    def __init__(
        self,
        name: str,
        container: Container,
        owner_engine: AsyncEngine,
        tenant: Tenant,
        flows: list[UUID],
        held: list[ClaimedRun],
        seed: int,
    ) -> None:
        self.name = name
        self.entry = PythonEntry(container)
        self.parts = PhaseParts(container, owner_engine)
        self.container = container
        self.tenant = tenant
        self.flows = flows
        self.held = held
        """The claimed attempts of this process's clients, not yet completed."""
        self.rng = random.Random(seed)
        self.seen: dict[UUID, tuple] = {}
        """The flows as this client last saw them."""
        self.history: list[Call] = []

    async def run(self, calls: int) -> list[Call]:
        for n in range(calls):
            flow_id = self.rng.choice(self.flows)
            late = n >= calls * 3 // 4  # cancels only late, so that most of the history races on live flows
            step = Operation.CANCEL if late and self.rng.random() < 0.04 else self._choose(flow_id)
            if step == Step.COMPLETE and self.held:
                await self._complete()
            elif step in (Step.CLAIM, Step.COMPLETE, Operation.RETRY):
                operation = Operation.RETRY if step == Operation.RETRY else Operation.EXECUTE_PHASE
                await self._claim(flow_id, operation)
            elif step == Step.CLAIM_DUE:
                await self._record(flow_id, Step.CLAIM_DUE, self._claim_due(flow_id))
            elif step == Step.TAKE_OVER:
                await self._take_over(flow_id)
            elif step == Step.READ:
                await self._record(flow_id, Step.READ, self._read(flow_id))
            else:
                await self._operate(flow_id, Operation(step))
        return self.history

    def _choose(self, flow_id: UUID) -> str:
        """Mostly what moves the flow on from the state this client last saw it in (other clients may have moved
        it since), else any step."""
        seen = self.seen.get(flow_id)
        if self.rng.random() < 0.3:
            return self.rng.choice(WEIGHTED_OPERATIONS)
        if seen is None:  # refused last time (or never seen): read it first, as a client after a 409 does
            return Step.READ
        status, run = seen[0], seen[-1]
        if run is not None and run[2] is not None:  # a phase runs: complete it (or pause, or lose its lease)
            mine = any(c.run_id == run[2] for c in self.held)
            others = [Operation.PAUSE, Operation.RESUME, Step.READ, Step.READ, Step.TAKE_OVER]  # its runner may stop
            return self.rng.choice([Step.COMPLETE] * (12 if mine else 0) + others)
        moves = {
            FlowStatus.INITIALIZED: [Operation.START],
            FlowStatus.RUNNING: [Step.CLAIM_DUE] if run is not None else [Step.CLAIM] * 3 + [Operation.PAUSE],
            FlowStatus.PAUSED: [Operation.RESUME],
            FlowStatus.WAITING_FOR_INPUT: [Operation.SUBMIT_INPUT, Operation.SUBMIT_INPUT, Operation.PAUSE],
            FlowStatus.FAILED: [Operation.RETRY],
        }
        return self.rng.choice(moves.get(status, [Step.READ]))

    def _expected(self, flow_id: UUID) -> int | None:
        seen = self.seen.get(flow_id)
        return seen[1] if seen is not None and self.rng.random() < 0.25 else None

    async def _operate(self, flow_id: UUID, operation: Operation) -> None:
        expected = self._expected(flow_id)
        payload = INPUTS["field_mapping"] if operation == Operation.SUBMIT_INPUT else None
        call = self.entry.operate(self.tenant, flow_id, operation, payload, expected)
        await self._record(flow_id, operation, _outcome_of(call), expected=expected)

    async def _claim(self, flow_id: UUID, operation: Operation) -> None:
        expected = self._expected(flow_id)
        claim = self.parts.claim(self.tenant, flow_id, operation, self.name, expected)
        await self._record(flow_id, Step.CLAIM, claim, expected=expected, claimed_as=operation)

    async def _claim_due(self, flow_id: UUID) -> tuple[Outcome, ClaimedRun | None]:
        return await self.parts.claim_due(DueWork(self.tenant, flow_id), self.name)

    async def drain(self) -> list[Call]:
        """Complete what this process still holds (each with its handler's outcome)."""
        while self.held:
            await self._complete(self.held[0], End.HANDLER)
        return self.history

    async def _complete(self, claimed: ClaimedRun | None = None, end: End | None = None) -> None:
        claimed = claimed or self.rng.choice(self.held)
        if claimed is self.held[0] or self.rng.random() < 0.9:  # else it stays: completed again later (discarded)
            self.held.remove(claimed)
        run = claimed.flow.run
        assert run is not None
        end = end or self.rng.choice(ENDS)
        policy = self.container.flow_types().get(claimed.flow.flow_type).policy_for(run.phase)
        if end in (End.RETRY_DUE, End.RETRY_LATER) and run.attempt >= policy.max_attempts:
            end = End.GAVE_UP
        ending = await self.parts.ending(claimed, end)  # the handler runs outside the call: it changes nothing
        call = _outcome_of(self.parts.complete_with(claimed, ending))
        await self._record(claimed.flow.flow_id, Step.COMPLETE, call, run_id=claimed.run_id, end=end)

    async def _take_over(self, flow_id: UUID) -> None:
        """A lease expires (its runner stopped), and a runner claims its attempt."""
        engine: AsyncEngine = self.parts.owner_engine
        async with engine.begin() as connection:
            expired = (await connection.execute(_EXPIRE, {"flow_id": flow_id})).scalar()
        if expired is None:
            return
        work = DueWork(self.tenant, flow_id, expired_run=expired)
        await self._record(flow_id, Step.TAKE_OVER, self.parts.claim_due(work, self.name), run_id=expired)

    async def _read(self, flow_id: UUID) -> tuple[Outcome, None]:
        flow = await self.container.orchestrator().get_flow(self.tenant, flow_id)
        return Outcome(200, flow_id=flow_id, observed=observed_from_flow(flow)), None

    async def _record(self, flow_id: UUID, operation: str, call: Any, **details: Any) -> None:
        invoked = time.monotonic_ns()
        outcome, claimed = await call
        returned = time.monotonic_ns()
        if claimed is not None:
            self.held.append(claimed)
            details["run_id"] = claimed.run_id
        if outcome.ok and outcome.observed:
            self.seen[flow_id] = outcome.observed
        elif not outcome.ok:
            self.seen.pop(flow_id, None)
        self.history.append(
            Call(
                self.name,
                flow_id,
                operation,
                details.pop("expected", None),
                invoked,
                returned,
                outcome.error,
                outcome.observed,
                **details,
            )
        )


async def _outcome_of(call: Any) -> tuple[Outcome, None]:
    return await call, None


async def run_clients(
    container: Container, tenant: Tenant, flows: list[UUID], clients: int, calls: int, seed: int, start: Any
) -> list[Call]:
    """The clients' calls, once every process is ready (``start``, a barrier), so that the processes overlap."""
    prefix = f"p{os.getpid()}"
    held: list[ClaimedRun] = []
    owner_engine = create_async_engine(container.settings().database.url or "", pool_size=2)
    try:
        everyone = [
            Client(f"{prefix}-c{i}", container, owner_engine, tenant, flows, held, seed * 100 + i)
            for i in range(clients)
        ]
        await asyncio.gather(*(container.orchestrator().get_flow(tenant, flows[0]) for _ in everyone))  # the pool
        await asyncio.to_thread(start.wait, 120)
        await asyncio.gather(*(client.run(calls) for client in everyone))
        results = [await client.drain() for client in everyone]
    finally:
        await owner_engine.dispose()
    return [call for history in results for call in history]


def process_main(
    database_url: str,
    tenant: Tenant,
    flows: list[UUID],
    clients: int,
    calls: int,
    seed: int,
    unit_of_work: str | None,
    start: Any,
    results: Any,
) -> None:
    """Entry point of a worker process (spawned): build a container of its own, run the clients, report.
    ``unit_of_work``: ``module:class`` of a unit of work to run on instead of MFO's (a test's deliberately broken
    one)."""
    import importlib

    from dependency_injector import providers

    from entrypoints.container import build_container, close_databases
    from entrypoints.settings import DatabaseSettings, Settings
    from entrypoints.testing.consistency.environment import without_backoff

    settings = Settings(database=DatabaseSettings(url=database_url, pool_size=clients, max_overflow=2))
    container = build_container(settings)
    container.flow_types.override(providers.Object(without_backoff(container.flow_types())))
    if unit_of_work is not None:
        module, name = unit_of_work.split(":")
        replacement = getattr(importlib.import_module(module), name)
        container.unit_of_work.override(providers.Factory(replacement, database=container.app_database))

    async def main() -> list[Call]:
        try:
            return await run_clients(container, tenant, flows, clients, calls, seed, start)
        finally:
            await close_databases(container)

    results.put(asyncio.run(main()))
