"""A phase run inline (``execute_phase`` and ``retry_flow``, application/phase_execution.py): the claim, the run and
the completion in the caller's task, waiting out a failed attempt's backoff as a runner would, and answering with
the flow as it is when the flow moved on without the attempt."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from uuid import uuid4

import pytest

from adapters.clock import SystemClock
from application.flow_type_registry import FlowTypeRegistry
from application.orchestrator import MasterFlowOrchestrator
from application.phase_execution import INLINE_OWNER
from domain.errors import FlowNotFound
from domain.flow import Flow
from domain.flow_types import PhaseContext
from domain.lifecycle import FlowStatus, PhaseState
from domain.phase_policy import PhasePolicy
from domain.ports import Lease
from tests.fakes import FakeUnitOfWork
from tests.unit.phase_world import TENANT, Handler, StillClock, World, definition


async def test_executing_inline_waits_out_the_backoff_and_runs_every_attempt() -> None:
    handler = Handler(RuntimeError("boom 1"), RuntimeError("boom 2"))
    world = World(definition(collect=handler), clock=SystemClock())
    flow = await world.flow()
    started = time.monotonic()
    done = await world.orchestrator().execute_phase(TENANT, flow.flow_id, actor="api")
    # the two waits are 10 and 20 ms: the call takes far less than a second more than its steps
    assert time.monotonic() - started < 1.5
    assert (done.status, done.current_phase, handler.calls) == (FlowStatus.RUNNING, "review", 3)
    assert world.results(flow.flow_id) == ["retrying", "retrying", "completed"]
    assert {a.owner for a in world.attempts(flow.flow_id)} == {INLINE_OWNER}
    events = world.events(flow.flow_id)
    waits = [events[3], events[5]]  # each failed attempt's completion, then the next attempt's claim
    assert [e.operation for e in waits] == ["complete_phase", "complete_phase"]
    retry_ats = [Flow.replay(events[: e.version]).run.retry_at for e in waits]  # type: ignore[union-attr]
    assert [(e.operation, e.actor) for e in (events[4], events[6])] == [("reattempt_phase", "api")] * 2
    assert events[4].occurred_at >= retry_ats[0] and events[6].occurred_at >= retry_ats[1]  # type: ignore[operator]
    assert retry_ats[1] - retry_ats[0] >= timedelta(seconds=0.02)  # type: ignore[operator]
    world.assert_views_at(flow.flow_id, 8)


async def test_an_inline_attempts_lease_lasts_the_longest_timeout_and_a_margin() -> None:
    leases: list[Lease | None] = []

    async def during(flow: Flow, _: PhaseContext) -> None:
        leases.append(world.lease(flow.flow_id))

    base = definition(PhasePolicy(timeout_seconds=5), collect=Handler(during=during))
    world = World(dataclasses.replace(base, policies={"review": PhasePolicy(timeout_seconds=42)}))
    flow = await world.flow()
    await world.orchestrator().execute_phase(TENANT, flow.flow_id, actor="api")
    (lease,) = leases
    (attempt,) = world.attempts(flow.flow_id)
    assert lease is not None and (lease.owner, lease.expires_at - attempt.started_at) == (
        INLINE_OWNER,
        timedelta(seconds=72),
    )


async def test_an_inline_phase_whose_flow_was_cancelled_meanwhile_answers_with_the_cancelled_flow() -> None:
    async def cancel(flow: Flow, _: PhaseContext) -> None:  # a client cancels the flow while its phase runs
        await world.orchestrator().cancel_flow(TENANT, flow.flow_id, actor="client")

    world = World(definition(collect=Handler(during=cancel)))
    flow = await world.flow()
    answered = await world.orchestrator().execute_phase(TENANT, flow.flow_id, actor="api")
    assert (answered.status, answered.version, answered.run) == (FlowStatus.CANCELLED, 4, None)
    assert answered == world.assert_views_at(flow.flow_id, 4)
    assert world.results(flow.flow_id) == ["discarded"]


async def test_an_inline_phase_whose_flow_was_paused_before_its_next_attempt_answers_with_the_paused_flow() -> None:
    async def pause(flow: Flow, _: PhaseContext) -> None:  # paused while the first attempt runs, which then fails
        await world.orchestrator().pause_flow(TENANT, flow.flow_id, actor="client")

    world = World(definition(collect=Handler(RuntimeError("boom"), during=pause)), clock=SystemClock())
    flow = await world.flow()
    answered = await world.orchestrator().execute_phase(TENANT, flow.flow_id, actor="api")
    assert answered.status == FlowStatus.PAUSED and answered.run is not None and answered.run.retry_at is not None
    assert answered == world.assert_views_at(flow.flow_id, 5)  # create, start, claim, pause, the failed attempt
    assert (world.results(flow.flow_id), answered.phase_state("collect")) == (["retrying"], PhaseState.RUNNING)


async def test_an_inline_retry_runs_the_failed_phase_again_in_the_call() -> None:
    handler = Handler(RuntimeError("boom"), RuntimeError("again"))
    world = World(definition(PhasePolicy(max_attempts=1), collect=handler), clock=StillClock())
    flow = await world.flow()
    failed = await world.orchestrator().execute_phase(TENANT, flow.flow_id, actor="api")
    assert failed.status == FlowStatus.FAILED
    again = await world.orchestrator().retry_flow(TENANT, flow.flow_id, actor="api")
    assert (again.status, handler.calls) == (FlowStatus.FAILED, 2)
    retried = await world.orchestrator().retry_flow(TENANT, flow.flow_id, actor="api")
    assert (retried.status, retried.current_phase, handler.calls) == (FlowStatus.RUNNING, "review", 3)
    assert [e.operation for e in world.events(flow.flow_id)[-2:]] == ["retry", "complete_phase"]


async def test_executing_inline_with_no_flow_type_registered_finds_no_flow() -> None:
    mfo = MasterFlowOrchestrator(FakeUnitOfWork(), FlowTypeRegistry(), StillClock())
    missing = uuid4()
    with pytest.raises(FlowNotFound) as raised:
        await mfo.execute_phase(TENANT, missing, actor="api")
    assert raised.value.flow_id == missing
