"""The trace a phase's claim ran in goes with the claim (the flow's ``PhaseRun``), so the phase continues it wherever
it runs: its run and completion, each later attempt (on whichever runner claims it) and the next phase an auto-run
flow goes straight on to. A change that leaves an auto-run flow due for a runner's claim (its start, a resume,
approved input, a completion no runner went straight on from) records its trace on the flow, and that claim
continues it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from domain.background import DueWork
from domain.flow import Flow, PhaseRun
from domain.lifecycle import Operation
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


async def test_a_claim_from_the_queue_with_no_trace_recorded_starts_in_the_trace_the_claiming_runner_is_in() -> None:
    world = World()
    flow = await world.flow(auto_run=True)
    world.observer.trace = dict(OTHER_TRACE)
    claimed = await claim_due(world, DueWork(TENANT, flow.flow_id))
    assert claimed is not None and claimed.flow.run is not None
    assert claimed.flow.run.trace_context == OTHER_TRACE


async def test_an_auto_run_start_records_its_trace_and_the_runners_claim_of_the_first_phase_continues_it() -> None:
    world = World()
    world.observer.trace = dict(REQUEST_TRACE)
    flow = await world.flow(auto_run=True)
    assert flow.trace_context == REQUEST_TRACE and flow.run is None
    assert world.stored(flow.flow_id).trace_context == REQUEST_TRACE
    start = world.events(flow.flow_id)[-1]
    assert (start.operation, start.data["trace_context"]) == (Operation.START, REQUEST_TRACE)

    world.observer.trace = dict(OTHER_TRACE)  # the polling runner's own trace
    claimed = await claim_due(world, DueWork(TENANT, flow.flow_id))
    assert claimed is not None and claimed.flow.run is not None
    assert claimed.flow.run.trace_context == REQUEST_TRACE
    assert world.stored(flow.flow_id).trace_context == {}  # the claim took it over: the run carries it now
    await run_and_complete(world, claimed)
    continued = {op: trace for trace, ops in world.observer.continuations for op in ops}
    assert continued == {"run_phase": REQUEST_TRACE, "complete_phase": REQUEST_TRACE}
    assert Flow.replay(world.events(flow.flow_id)) == world.stored(flow.flow_id)


async def test_a_start_that_leaves_no_work_for_a_runner_records_no_trace() -> None:
    world = World()
    world.observer.trace = dict(REQUEST_TRACE)
    flow = await world.flow()  # not auto-run: phases run when a client executes them
    assert flow.trace_context == {} and world.stored(flow.flow_id).trace_context == {}
    assert "trace_context" not in world.events(flow.flow_id)[-1].data


async def test_a_resume_records_its_trace_in_place_of_the_starts_and_a_pause_drops_it() -> None:
    world = World()
    world.observer.trace = dict(OTHER_TRACE)
    flow = await world.flow(auto_run=True)
    mfo = world.orchestrator()
    world.observer.trace = {}
    paused = await mfo.pause_flow(TENANT, flow.flow_id, actor="api")
    assert paused.trace_context == {}  # paused: no runner claims it, no trace waits for one
    world.observer.trace = dict(REQUEST_TRACE)
    resumed = await world.orchestrator().resume_flow(TENANT, flow.flow_id, actor="api")
    assert resumed.trace_context == REQUEST_TRACE
    world.observer.trace = {}
    claimed = await claim_due(world, DueWork(TENANT, flow.flow_id))
    assert claimed is not None and claimed.flow.run is not None
    assert claimed.flow.run.trace_context == REQUEST_TRACE


async def test_approved_input_records_its_trace_for_the_next_phase_a_runner_claims() -> None:
    world = World()
    flow = await world.flow(auto_run=True)
    for _ in ("collect", "review"):  # review then waits for input
        claimed = await claim_due(world, DueWork(TENANT, flow.flow_id))
        assert claimed is not None
        waiting = await run_and_complete(world, claimed)
    assert waiting is not None and waiting.current_phase == "review" and waiting.run is None
    world.observer.trace = dict(REQUEST_TRACE)
    approved = await world.orchestrator().submit_input(TENANT, flow.flow_id, {"approved": True}, actor="api")
    assert (approved.current_phase, approved.trace_context) == ("publish", REQUEST_TRACE)
    world.observer.trace = dict(OTHER_TRACE)
    claimed = await claim_due(world, DueWork(TENANT, flow.flow_id))
    assert claimed is not None and claimed.flow.run is not None
    assert (claimed.flow.run.phase, claimed.flow.run.trace_context) == ("publish", REQUEST_TRACE)


async def test_a_completion_no_runner_went_on_from_leaves_its_runs_trace_for_the_next_claim() -> None:
    world = World()
    flow = await world.flow(auto_run=True)
    world.observer.trace = dict(REQUEST_TRACE)
    claimed = await claim(world, flow)  # claimed by a request; its runner does not go straight on
    world.observer.trace = {}
    after = await run_and_complete(world, claimed)
    assert after is not None and after.run is None and after.trace_context == REQUEST_TRACE
    world.observer.trace = dict(OTHER_TRACE)
    following = await claim_due(world, DueWork(TENANT, flow.flow_id))
    assert following is not None and following.flow.run is not None
    assert (following.flow.run.phase, following.flow.run.trace_context) == ("review", REQUEST_TRACE)


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
