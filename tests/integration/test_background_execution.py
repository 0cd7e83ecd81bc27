"""Background execution on real PostgreSQL: phase runners (application/phase_runner.py) built by the container run
auto-run flows in one commit a phase (the completion of a phase claims the next in the same event), wake at the
NOTIFY of a commit that made work due rather than at their next poll, renew the leases of long phases, take over an
attempt whose lease expired (its late completion then discarded), and hold no more of a tenant's leases than its
limit, however many runners claim at once.

On a database of its own: a runner polls every tenant's due work, and must find no other test's.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

import pytest
from dependency_injector import providers
from sqlalchemy import text

from adapters.crewai_bridge import crewai_adapter
from adapters.flow_types.discovery import register
from adapters.persistence.phase_runs import PgPhaseQueue
from application.flow_type_registry import FlowTypeRegistry, direct
from application.phase_runner import PhaseRunner, RunnerOptions
from domain.background import DueWork
from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import PhaseContext
from domain.lifecycle import FlowStatus
from domain.phase_policy import Backoff, PhasePolicy
from domain.phases import PhaseOutcome
from entrypoints.container import Container
from tests.support import DISCOVERY_CSV, database_of_its_own, eventually, owner_engine_of

settings, container = database_of_its_own("mfo_background")

MAPPINGS = {
    "hostname": "name",
    "type": "asset_type",
    "os": "os",
    "os_version": "os_version",
    "env": "environment",
    "depends_on": "depends_on",
}
GATED = "data_import"
"""The phase the tests' gate holds."""
FAST = RunnerOptions(lease_seconds=30, heartbeat_seconds=0.2, poll_seconds=0.05)


@dataclass
class Gate:
    """Holds the handler of :data:`GATED` until released (the attempts in ``hold``, or every one), counting who
    passes: a phase as long as a test needs it to be."""

    hold: set[int] | None = field(default_factory=set)
    """The attempts held (None: every one); empty: the gate is open."""
    released: asyncio.Event = field(default_factory=asyncio.Event)
    entered: list[tuple[UUID, int]] = field(default_factory=list)
    inside: Counter[Tenant] = field(default_factory=Counter)
    most_inside: Counter[Tenant] = field(default_factory=Counter)

    async def passing(self, flow: Flow) -> None:
        assert flow.run is not None
        self.entered.append((flow.flow_id, flow.run.attempt))
        self.inside[flow.tenant] += 1
        self.most_inside[flow.tenant] = max(self.most_inside[flow.tenant], self.inside[flow.tenant])
        try:
            if self.hold is None or flow.run.attempt in self.hold:
                await self.released.wait()
        finally:
            self.inside[flow.tenant] -= 1


def gated_registry(gate: Gate) -> FlowTypeRegistry:
    """Discovery through the CrewAI bridge, as configured, with the gate in front of :data:`GATED`'s handler and
    a backoff of a tenth of a second after a failed attempt."""
    definition = register()
    handler = definition.run[GATED]

    async def gated(flow: Flow, context: PhaseContext) -> PhaseOutcome:
        await gate.passing(flow)
        return await handler(flow, context)

    policy = PhasePolicy(timeout_seconds=30, backoff=Backoff(initial_seconds=0.1, jitter=0))
    gated_definition = replace(definition, run={**definition.run, GATED: gated}, policies={GATED: policy})
    registry = FlowTypeRegistry()
    registry.register(
        gated_definition, adapter=crewai_adapter(gated_definition, direct(gated_definition)), bridged=True
    )
    return registry


@pytest.fixture
async def gate(container: Container) -> AsyncIterator[Gate]:
    gate = Gate()
    container.flow_types.override(providers.Object(gated_registry(gate)))
    try:
        yield gate
    finally:
        gate.released.set()
        container.flow_types.reset_override()


@pytest.fixture
async def runners(container: Container, gate: Gate) -> AsyncIterator[Callable[..., PhaseRunner]]:
    """Starts runners of the container (``options`` as given); every one still running is stopped at the end."""
    started: list[PhaseRunner] = []

    def start(options: RunnerOptions = FAST, **provided: Any) -> PhaseRunner:
        runner = container.phase_runner(options=options, **provided)
        runner.start()
        started.append(runner)
        return runner

    yield start
    gate.released.set()
    for runner in started:
        await runner.stop()


async def auto_run_flow(container: Container, tenant: Tenant, name: str = "bg") -> UUID:
    mfo = container.orchestrator
    flow = await mfo().create_flow(tenant, "discovery", name, {"data": DISCOVERY_CSV}, actor="alice")
    await mfo().start_flow(tenant, flow.flow_id, actor="alice", auto_run=True)
    return flow.flow_id


def flow_in(container: Container, tenant: Tenant, flow_id: UUID, status: FlowStatus) -> Callable[[], Awaitable[Any]]:
    """A condition for :func:`eventually`: the flow, once it is in ``status``."""

    async def condition() -> Any:
        flow = await container.orchestrator().get_flow(tenant, flow_id)
        assert flow.status == status, f"flow {flow_id} is {flow.status}"
        return flow

    return condition


async def operations(container: Container, tenant: Tenant, flow_id: UUID) -> list[tuple[str, str]]:
    return [(e.operation, e.actor) for e in await container.orchestrator().get_flow_events(tenant, flow_id)]


async def lease_row(container: Container, flow_id: UUID) -> Any:
    async with owner_engine_of(container).connect() as connection:
        result = await connection.execute(
            text("SELECT run_id, owner, expires_at > now() AS live FROM phase_leases WHERE flow_id = :f"),
            {"f": flow_id},
        )
        return result.mappings().one_or_none()


async def runs(container: Container, tenant: Tenant, flow_id: UUID) -> list[tuple[str, str, str | None]]:
    """The flow's events as (operation, actor, the phase of the run it leaves in progress or due)."""
    events = await container.orchestrator().get_flow_events(tenant, flow_id)
    return [(e.operation, e.actor, (e.data.get("run") or {}).get("phase")) for e in events]


async def test_a_runner_runs_auto_run_flows_to_completion_in_one_commit_a_phase(
    container: Container, runners: Callable[..., PhaseRunner], tenant: Tenant, other_tenant: Tenant
) -> None:
    mfo, database = container.orchestrator, container.app_database()
    flows = {tenant: await auto_run_flow(container, tenant), other_tenant: await auto_run_flow(container, other_tenant)}
    commits = database.commits
    runner = runners()
    for owner, flow_id in flows.items():
        await eventually(
            flow_in(container, owner, flow_id, FlowStatus.WAITING_FOR_INPUT), within=20, what="input awaited"
        )
        await mfo().submit_input(owner, flow_id, {"approved": True, "mappings": MAPPINGS}, actor="alice")
    for owner, flow_id in flows.items():
        done = await eventually(
            flow_in(container, owner, flow_id, FlowStatus.COMPLETED), within=20, what="the flow completed"
        )
        # the first phase after the start and after the input is claimed by a poll (execute_phase); every
        # completion that leaves the flow running claims the next phase in the same event
        expected = [
            ("create", "alice", None),
            ("start", "alice", None),
            ("execute_phase", "worker", "data_import"),
            ("complete_phase", "worker", "field_mapping"),  # data_import's outcome; field_mapping begun
            ("complete_phase", "worker", None),  # field_mapping awaits its input
            ("submit_input", "alice", None),
            ("execute_phase", "worker", "data_cleansing"),
            ("complete_phase", "worker", "asset_inventory"),
            ("complete_phase", "worker", "dependency_analysis"),
            ("complete_phase", "worker", "tech_debt_assessment"),
            ("complete_phase", "worker", None),  # the last phase: the flow completed
        ]
        assert await runs(container, owner, flow_id) == expected
        assert done.version == len(expected) and done.run is None
        assert (await mfo().get_flow_status(owner, flow_id)).in_sync
        events = await mfo().get_flow_events(owner, flow_id)
        begun = [e.data["run"] for e in events if e.data.get("run")]
        for event in events:
            run = event.data.get("run")
            if event.operation == "complete_phase" and run is not None:  # the next phase, attempt 1, running
                assert run["attempt"] == 1 and run["retry_at"] is None and run["run_id"] is not None
                assert event.data["phase_states"][run["phase"]] == "running"
                assert event.to_status == FlowStatus.RUNNING
        attempts = await mfo().get_phase_attempts(owner, flow_id)
        assert sorted(a.result for a in attempts) == ["completed"] * 5 + ["needs_input"]
        # each phase begun in an event is the attempt row of its run id, leased to the runner that ran it
        assert sorted((a.phase, str(a.run_id)) for a in attempts) == sorted((r["phase"], r["run_id"]) for r in begun)
        assert {a.owner for a in attempts} == {runner.owner}
        assert await lease_row(container, flow_id) is None
    runner_commits = database.commits - commits - len(flows)  # less the test's own submit_input
    # six phases a flow, each completed in one commit, and the two claims of a first phase (after the start, after
    # the input): no commit of its own for any other phase
    assert runner_commits == (6 + 2) * len(flows), "a chained background phase is one commit"
    report = await container.auditor().audit()
    assert report.inconsistent == 0, report.findings


class CountedPolls:
    """A runner's own queue (the container's) that counts the runner's looks for due work and the notifications it
    hears; ``during_poll``, once, runs after a look found what it found and before the runner sees it."""

    def __init__(self, queue: PgPhaseQueue) -> None:
        self._queue = queue
        self.polls = 0
        self.notified = asyncio.Event()
        self.during_poll: Callable[[], Awaitable[None]] | None = None

    async def listen(self, wake: Callable[[], None]) -> None:
        def heard() -> None:
            self.notified.set()
            wake()

        await self._queue.listen(heard)

    async def due(self, limit: int, tenant_limit: int) -> list[DueWork]:
        found = await self._queue.due(limit, tenant_limit)
        self.polls += 1
        during, self.during_poll = self.during_poll, None
        if during is not None:
            await during()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queue, name)


async def test_a_start_with_auto_run_wakes_a_runner_at_its_commit_not_at_its_next_poll(
    container: Container, runners: Callable[..., PhaseRunner], gate: Gate, tenant: Tenant
) -> None:
    queue = CountedPolls(container.phase_queue())
    runners(replace(FAST, poll_seconds=30), queue=queue)
    await eventually(lambda: queue.polls and queue.listening, within=10, what="the runner listening, past a poll")
    # the runner found nothing due: it waits 30 s for its next poll unless a notification wakes it (it waits from
    # the moment its poll returned, with no await in between, so nothing below can reach that first poll)
    flow_id = await auto_run_flow(container, tenant, "woken")
    await eventually(lambda: gate.entered, within=5, what="the first phase claimed")
    await eventually(
        flow_in(container, tenant, flow_id, FlowStatus.WAITING_FOR_INPUT), within=10, what="the phases ran"
    )
    events = {e.operation: e for e in await container.orchestrator().get_flow_events(tenant, flow_id)}
    claimed_after = (events["execute_phase"].occurred_at - events["start"].occurred_at).total_seconds()
    assert claimed_after < 1.0, f"claimed {claimed_after:.2f} s after the start's commit: not woken by it"
    assert events["execute_phase"].actor == "worker"


async def test_a_start_committed_while_a_runner_polls_wakes_it_when_the_poll_found_nothing(
    container: Container, runners: Callable[..., PhaseRunner], gate: Gate, tenant: Tenant
) -> None:
    queue = CountedPolls(container.phase_queue())
    started: list[UUID] = []

    async def start_while_polling() -> None:  # the poll has read the due work (none): now work becomes due
        queue.notified.clear()
        started.append(await auto_run_flow(container, tenant, "started mid-poll"))
        await asyncio.wait_for(queue.notified.wait(), 10)  # the runner heard of it before its poll returned

    queue.during_poll = start_while_polling
    runners(replace(FAST, poll_seconds=30), queue=queue)  # its first poll, at once, is the one interrupted
    await eventually(lambda: started, within=10, what="the start committed during the first poll")
    await eventually(lambda: gate.entered, within=5, what="the phase claimed, not 30 s later at the next poll")
    [flow_id] = started
    await eventually(
        flow_in(container, tenant, flow_id, FlowStatus.WAITING_FOR_INPUT), within=10, what="the phases ran"
    )
    assert gate.entered == [(flow_id, 1)]


async def test_heartbeats_keep_a_long_phases_lease_beyond_lease_seconds(
    container: Container, runners: Callable[..., PhaseRunner], gate: Gate, tenant: Tenant
) -> None:
    gate.hold = {1}
    short = replace(FAST, lease_seconds=1.0)
    holder = runners(short)
    flow_id = await auto_run_flow(container, tenant)
    await eventually(lambda: gate.entered, within=10, what="the phase began")
    runners(short)  # another runner, polling: it would take over an expired lease
    first = await lease_row(container, flow_id)
    assert first["owner"] == holder.owner
    await asyncio.sleep(2.5)  # not waiting for a condition: the phase runs for more than twice its lease
    still = await lease_row(container, flow_id)
    assert (still["run_id"], still["owner"], still["live"]) == (first["run_id"], holder.owner, True)
    assert gate.entered == [(flow_id, 1)]
    gate.released.set()
    await eventually(
        flow_in(container, tenant, flow_id, FlowStatus.WAITING_FOR_INPUT), within=10, what="the phase completed"
    )
    attempts = await container.orchestrator().get_phase_attempts(tenant, flow_id)
    imported = [a for a in attempts if a.phase == GATED]
    assert [(a.attempt, a.owner, a.result) for a in imported] == [(1, holder.owner, "completed")]


async def test_a_stopped_runners_attempt_is_taken_over_once_its_lease_expires(
    container: Container, runners: Callable[..., PhaseRunner], gate: Gate, tenant: Tenant
) -> None:
    gate.hold = {1}
    stopped = runners(replace(FAST, lease_seconds=1.0))
    flow_id = await auto_run_flow(container, tenant)
    await eventually(lambda: gate.entered, within=10, what="the phase began")
    await stopped.stop()  # its attempt is cancelled and never completed: its lease lapses
    assert (await lease_row(container, flow_id))["owner"] == stopped.owner
    other = runners()
    await eventually(
        flow_in(container, tenant, flow_id, FlowStatus.WAITING_FOR_INPUT), within=15, what="taken over and run"
    )
    assert gate.entered == [(flow_id, 1), (flow_id, 2)]
    assert await operations(container, tenant, flow_id) == [
        ("create", "alice"),
        ("start", "alice"),
        ("execute_phase", "worker"),  # the stopped runner's claim
        ("complete_phase", "worker"),  # the other runner: attempt 1 failed, its lease expired
        ("reattempt_phase", "worker"),
        ("complete_phase", "worker"),  # attempt 2 completed, and field_mapping claimed in the same event
        ("complete_phase", "worker"),  # field_mapping awaits its input
    ]
    attempts = await container.orchestrator().get_phase_attempts(tenant, flow_id)
    second, first = [a for a in attempts if a.phase == GATED]
    assert (first.attempt, first.owner, first.result) == (1, stopped.owner, "retrying")
    assert "its worker stopped renewing the lease" in (first.detail or "")
    assert (second.attempt, second.owner, second.result) == (2, other.owner, "completed")


async def test_an_attempt_whose_lease_expired_is_taken_over_and_its_late_completion_discarded(
    container: Container, runners: Callable[..., PhaseRunner], gate: Gate, tenant: Tenant
) -> None:
    gate.hold = {1}
    late = runners(replace(FAST, heartbeat_seconds=60, polls=False))  # no heartbeat before the test ends
    flow_id = await auto_run_flow(container, tenant)
    claimed = await container.phase_execution().claim_phase(
        tenant, flow_id, actor="worker", owner=late.owner, lease_seconds=30
    )
    late.run(claimed, background=True)
    await eventually(lambda: gate.entered, within=10, what="the phase began")
    async with owner_engine_of(container).begin() as connection:  # as if its runner had stopped renewing it
        await connection.execute(
            text("UPDATE phase_leases SET expires_at = now() - interval '1 second' WHERE flow_id = :f"),
            {"f": flow_id},
        )
    taker = runners()
    waiting = await eventually(
        flow_in(container, tenant, flow_id, FlowStatus.WAITING_FOR_INPUT), within=15, what="taken over and run"
    )
    before = await operations(container, tenant, flow_id)
    gate.released.set()  # the first attempt ends now, long after it was taken over
    await eventually(lambda: late.running == 0, within=10, what="the late attempt ended")
    assert await operations(container, tenant, flow_id) == before, "the late completion recorded nothing"
    after = await container.orchestrator().get_flow(tenant, flow_id)
    assert (after.status, after.version) == (FlowStatus.WAITING_FOR_INPUT, waiting.version)
    attempts = await container.orchestrator().get_phase_attempts(tenant, flow_id)
    second, first = [a for a in attempts if a.phase == GATED]
    assert (first.run_id, first.owner, first.result) == (claimed.run_id, late.owner, "discarded")
    assert "its worker stopped renewing the lease" in (first.detail or "")
    assert "its outcome (completed) was discarded" in (first.detail or "")
    assert (second.attempt, second.owner, second.result) == (2, taker.owner, "completed")
    report = await container.auditor().audit()
    assert report.inconsistent == 0, report.findings


async def test_two_runners_hold_no_more_of_a_tenants_leases_than_its_limit(
    container: Container, runners: Callable[..., PhaseRunner], gate: Gate, tenant: Tenant, other_tenant: Tenant
) -> None:
    gate.hold = None  # every attempt waits at the gate until it opens
    busy = [await auto_run_flow(container, tenant, f"busy-{n}") for n in range(5)]
    quiet = [await auto_run_flow(container, other_tenant, f"quiet-{n}") for n in range(2)]
    limited = replace(FAST, tenant_limit=2)
    first, second = runners(limited), runners(limited)

    async def leases_of(owner: Tenant) -> int:
        async with owner_engine_of(container).connect() as connection:
            return await connection.scalar(
                text("SELECT count(*) FROM phase_leases WHERE client_account_id = :c AND engagement_id = :e"),
                {"c": owner.client_account_id, "e": owner.engagement_id},
            )

    await eventually(lambda: len(gate.entered) == 4, within=10, what="two phases of each tenant began")
    for _ in range(10):  # both runners poll every 50 ms meanwhile: none claims more of either tenant
        assert (await leases_of(tenant), await leases_of(other_tenant)) == (2, 2)
        await asyncio.sleep(0.05)  # not waiting for a condition: samples the leases over a few polls
    assert len(gate.entered) == 4
    gate.released.set()
    for owner, flow_ids in ((tenant, busy), (other_tenant, quiet)):
        for flow_id in flow_ids:
            await eventually(
                flow_in(container, owner, flow_id, FlowStatus.WAITING_FOR_INPUT), within=20, what="each flow ran"
            )
    assert gate.most_inside[tenant] == 2 and gate.most_inside[other_tenant] == 2
    owners = {a.owner for flow_id in busy for a in await container.orchestrator().get_phase_attempts(tenant, flow_id)}
    assert owners <= {first.owner, second.owner}


async def test_concurrent_claims_of_one_tenants_due_work_stop_at_its_limit(
    container: Container, tenant: Tenant
) -> None:
    """Claims running at once, each counting the tenant's leases before it takes one, take turns on the tenant's
    lock: however they interleave, the limit holds."""
    flow_ids = [await auto_run_flow(container, tenant, f"claimed-{n}") for n in range(6)]
    claims = await asyncio.gather(
        *(
            container.phase_execution().claim_due(
                DueWork(tenant, flow_id), owner=f"claimer-{n}", lease_seconds=30, tenant_limit=2, actor="worker"
            )
            for n, flow_id in enumerate(flow_ids)
        )
    )
    claimed = [c for c in claims if c is not None]
    assert len(claimed) == 2
    async with owner_engine_of(container).connect() as connection:
        leased = await connection.scalar(
            text("SELECT count(*) FROM phase_leases WHERE client_account_id = :c AND engagement_id = :e"),
            {"c": tenant.client_account_id, "e": tenant.engagement_id},
        )
    assert leased == 2
    for flow_id in flow_ids:  # nothing left due, nor leased, for a runner of a later test
        await container.orchestrator().cancel_flow(tenant, flow_id, actor="t")
