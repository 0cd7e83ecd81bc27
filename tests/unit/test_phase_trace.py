"""The trace a phase's claim ran in goes with the claim (the flow's ``PhaseRun``), so the phase continues it wherever
it runs: its run and completion, each later attempt (on whichever runner claims it) and the next phase an auto-run
flow goes straight on to."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from domain.background import DueWork
from domain.flow import PhaseRun
from tests.unit.phase_world import TENANT, Handler, World, claim, claim_due, definition, run_and_complete

REQUEST_TRACE = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
OTHER_TRACE = {"traceparent": "00-11111111111111111111111111111111-2222222222222222-01"}


async def test_the_claim_records_its_trace_and_the_run_and_completion_continue_it() -> None:
    world = World()
    flow = await world.flow()
    world.observer.trace = dict(REQUEST_TRACE)
    claimed = await claim(world, flow)
    assert claimed.flow.run is not None and claimed.flow.run.trace_context == REQUEST_TRACE
    assert world.stored(flow.flow_id).run.trace_context == REQUEST_TRACE  # type: ignore[union-attr]
    assert world.events(flow.flow_id)[-1].data["run"]["trace"] == REQUEST_TRACE  # replay keeps it too

    world.observer.trace = dict(OTHER_TRACE)  # the runner's own context differs: the stored trace wins
    await run_and_complete(world, claimed)
    continued = {op: trace for trace, ops in world.observer.continuations for op in ops}
    assert continued == {"run_phase": REQUEST_TRACE, "complete_phase": REQUEST_TRACE}


async def test_every_later_attempt_continues_the_trace_of_the_first_claim() -> None:
    world = World(definition(collect=Handler(RuntimeError("boom"))))
    flow = await world.flow()
    world.observer.trace = dict(REQUEST_TRACE)
    claimed = await claim(world, flow)
    after = await run_and_complete(world, claimed)
    assert after is not None and after.run is not None and after.run.retry_at is not None
    world.clock.advance((after.run.retry_at - world.clock.now()).total_seconds())
    world.observer.trace = dict(OTHER_TRACE)  # another runner, in a trace of its own
    again = await claim_due(world, DueWork(TENANT, flow.flow_id))
    assert again is not None and again.flow.run is not None
    assert (again.flow.run.attempt, again.flow.run.trace_context) == (2, REQUEST_TRACE)


async def test_the_next_phase_of_an_auto_run_flow_claimed_in_the_completion_continues_the_trace() -> None:
    world = World()
    flow = await world.flow(auto_run=True)
    world.observer.trace = dict(REQUEST_TRACE)
    claimed = await claim(world, flow)
    end = await world.execution().run_claimed(claimed)
    world.observer.trace = {}
    after = await world.execution().complete_run(claimed, end, actor="worker", go_on=True)
    assert after is not None and after.run is not None and after.run.phase == "review"
    assert after.run.trace_context == REQUEST_TRACE


async def test_a_claim_from_the_queue_starts_in_the_trace_the_claiming_runner_is_in() -> None:
    world = World()
    flow = await world.flow(auto_run=True)
    world.observer.trace = dict(OTHER_TRACE)
    claimed = await claim_due(world, DueWork(TENANT, flow.flow_id))
    assert claimed is not None and claimed.flow.run is not None
    assert claimed.flow.run.trace_context == OTHER_TRACE


async def test_without_tracing_nothing_is_recorded_and_the_stored_run_keeps_its_shape() -> None:
    world = World()
    flow = await world.flow()
    claimed = await claim(world, flow)
    assert claimed.flow.run is not None and claimed.flow.run.trace == ()
    assert "trace" not in claimed.flow.run.to_data()
    await run_and_complete(world, claimed)
    assert [trace for trace, _ in world.observer.continuations] == [{}, {}]


def test_a_phase_runs_trace_survives_its_stored_form() -> None:
    run = PhaseRun("collect", 2, uuid4(), datetime(2026, 1, 1, tzinfo=UTC), trace=(("traceparent", "00-a-b-01"),))
    data = run.to_data()
    assert data["trace"] == {"traceparent": "00-a-b-01"}
    assert PhaseRun.from_data(data) == run
    assert PhaseRun.from_data({**data, "trace": None}) == PhaseRun("collect", 2, run.run_id, run.started_at)
