"""Phase execution (application/phase_execution.py) on fakes: the claim and the completion each commit the master
row, the child record, the bridge's state, one event and the attempt's lease together; the handler runs with no
transaction open, within its timeout; a failed attempt is retried after its backoff up to the policy's attempts, an
error never retried and a phase that fails its flow are not."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from application import phase_execution
from application.phase_execution import PhaseExecution
from domain.background import ClaimedRun, DueWork
from domain.errors import FlowBusy, IllegalTransition, InvalidFlowInput, PhaseFailed
from domain.flow import AttemptEnd, Flow
from domain.flow_types import PhaseContext
from domain.lifecycle import FlowStatus, Operation, PhaseState
from domain.phase_policy import Backoff, PhasePolicy
from domain.phases import PhaseOutcome, PhaseResultKind
from domain.ports import Attempt, Lease
from tests.unit.phase_world import (
    RETRY_TEXT,
    TENANT,
    WAIT,
    Handler,
    World,
    claim,
    claim_due,
    definition,
    raised_text,
    run_and_complete,
)

# -- claim, run, complete -----------------------------------------------------------------------------


async def test_the_claim_and_the_completion_each_commit_every_view_one_event_and_the_lease_together() -> None:
    seen: list[tuple[int, str]] = []

    async def during(flow: Flow, context: PhaseContext) -> None:  # no transaction open while the handler runs
        seen.append((world.open_units, (await context.flows.get(TENANT, flow.flow_id)).status))
        seen.append((world.open_units, "after the read"))

    world = World(definition(collect=Handler(PhaseOutcome.completed({"n": 2}), during=during)))
    flow = await world.flow()
    commits = world.commits

    claimed = await claim(world, flow)
    assert world.commits == commits + 1
    stored = world.assert_views_at(flow.flow_id, 3)
    (event,) = world.events(flow.flow_id)[2:]
    assert (event.operation, event.from_status, event.to_status, event.actor) == (
        "execute_phase",
        "running",
        "running",
        "api",
    )
    assert event.occurred_at == world.clock.now() == stored.run.started_at  # type: ignore[union-attr]
    assert stored.run is not None and stored.run.run_id == claimed.run_id and stored.run.attempt == 1
    assert stored.phase_state("collect") == PhaseState.RUNNING
    (attempt,) = world.attempts(flow.flow_id)
    assert attempt == Attempt(claimed.run_id, "collect", 1, "r1", attempt.started_at, None, None, None)
    assert world.lease(flow.flow_id) == Lease(claimed.run_id, "r1", attempt.started_at + timedelta(seconds=30))
    assert (claimed.flow, claimed.owner, claimed.lease_seconds, claimed.phase, claimed.tenant) == (
        stored,
        "r1",
        30.0,
        "collect",
        TENANT,
    )

    end = await world.execution().run_claimed(claimed)
    assert end.outcome is not None and (end.outcome.kind, end.outcome.result) == (PhaseResultKind.COMPLETED, {"n": 2})
    assert seen == [(0, FlowStatus.RUNNING), (0, "after the read")]  # its read was a transaction of its own
    assert world.commits == commits + 1  # running it wrote nothing
    assert world.assert_views_at(flow.flow_id, 3) == stored

    done = await world.execution().complete_run(claimed, end, actor="worker")
    assert world.commits == commits + 2
    assert done is not None and done == world.assert_views_at(flow.flow_id, 4)
    (event,) = world.events(flow.flow_id)[3:]
    assert (event.operation, event.to_status, event.actor, event.data["attempt"]) == (
        "complete_phase",
        "running",
        "worker",
        1,
    )
    assert (done.run, done.current_phase, done.phase_results["collect"]) == (None, "review", {"n": 2})
    assert world.lease(flow.flow_id) is None
    (attempt,) = world.attempts(flow.flow_id)
    assert (attempt.result, attempt.detail) == ("completed", None) and attempt.ended_at is not None
    assert world.open_units == 0


@pytest.mark.parametrize(
    ("outcome", "status", "result"),
    [
        (PhaseOutcome.completed({}), FlowStatus.RUNNING, "completed"),
        (PhaseOutcome.needs_input({"ask": 1}), FlowStatus.WAITING_FOR_INPUT, "needs_input"),
        (PhaseOutcome.failed("no rows"), FlowStatus.FAILED, "failed"),
    ],
)
async def test_each_outcome_ends_the_attempt_with_its_result(
    outcome: PhaseOutcome, status: FlowStatus, result: str
) -> None:
    world = World(definition(collect=Handler(outcome)))
    flow = await world.flow()
    done = await run_and_complete(world, await claim(world, flow))
    assert done is not None and (done.status, done.run) == (status, None)
    assert world.results(flow.flow_id) == [result]
    assert world.lease(flow.flow_id) is None


async def test_a_second_claim_while_a_phase_runs_is_refused_naming_it_and_changes_nothing() -> None:
    world = World()
    flow = await world.flow()
    claimed = await claim(world, flow)
    commits, lease = world.commits, world.lease(flow.flow_id)
    for operation in (Operation.EXECUTE_PHASE, Operation.RETRY):
        with pytest.raises(IllegalTransition) as raised:
            await world.execution().claim_phase(
                TENANT, flow.flow_id, operation, actor="api", owner="r2", lease_seconds=30
            )
        assert raised.value.current_status == "running"
    with pytest.raises(IllegalTransition) as raised:
        await world.execution().claim_phase(TENANT, flow.flow_id, actor="api", owner="r2", lease_seconds=30)
    assert raised.value.reason == "phase 'collect' is running (attempt 1)"
    assert (world.commits, world.lease(flow.flow_id)) == (commits, lease)
    assert [a.run_id for a in world.attempts(flow.flow_id)] == [claimed.run_id]
    world.assert_views_at(flow.flow_id, 3)


async def test_a_retry_claims_the_failed_phase_and_runs_it_again() -> None:
    world = World(definition(collect=Handler(PhaseOutcome.failed("bad"), PhaseOutcome.completed({"ok": 1}))))
    flow = await world.flow()
    assert (await run_and_complete(world, await claim(world, flow))).status == FlowStatus.FAILED  # type: ignore[union-attr]
    claimed = await world.execution().claim_phase(
        TENANT, flow.flow_id, Operation.RETRY, actor="api", owner="r1", lease_seconds=30
    )
    assert world.events(flow.flow_id)[-1].operation == "retry"
    done = await run_and_complete(world, claimed)
    assert done is not None and (done.status, done.phase_results["collect"]) == (FlowStatus.RUNNING, {"ok": 1})
    assert world.results(flow.flow_id) == ["failed", "completed"]


# -- failed attempts ----------------------------------------------------------------------------------------


async def test_a_raising_handler_is_retried_after_its_backoff_then_fails_the_flow_naming_each_attempt() -> None:
    errors = [RuntimeError(f"boom {n}") for n in (1, 2, 3)]
    world = World(definition(collect=Handler(*errors)))
    flow = await world.flow()
    claimed: ClaimedRun | None = await claim(world, flow)
    delays = []
    for number in (1, 2, 3):
        assert claimed is not None and claimed.flow.run is not None and claimed.flow.run.attempt == number
        commits, events = world.commits, len(world.events(flow.flow_id))
        after = await run_and_complete(world, claimed)
        assert (world.commits, len(world.events(flow.flow_id))) == (commits + 1, events + 1)  # one event a commit
        assert after is not None and world.lease(flow.flow_id) is None
        if number == 3:
            break
        assert after.status == FlowStatus.RUNNING and after.run is not None and after.run.retry_at is not None
        delays.append((after.run.retry_at - world.clock.now()).total_seconds())
        assert await claim_due(world, DueWork(TENANT, flow.flow_id)) is None  # not due before its backoff
        assert world.commits == commits + 1
        world.clock.advance(delays[-1])
        claimed = await claim_due(world, DueWork(TENANT, flow.flow_id))
        assert world.events(flow.flow_id)[-1].operation == "reattempt_phase"
        assert claimed is not None and world.lease(flow.flow_id).run_id == claimed.run_id  # type: ignore[union-attr]
    assert delays == [0.01, 0.02]  # QUICK's backoff, doubling
    assert (after.status, after.run, after.phase_state("collect")) == (FlowStatus.FAILED, None, PhaseState.FAILED)
    listed = "; ".join(f"attempt {n}: {raised_text(f'RuntimeError: boom {n}')}" for n in (1, 2, 3))
    assert after.error == f"phase 'collect' failed after 3 attempts ({listed}); {RETRY_TEXT}"
    assert world.results(flow.flow_id) == ["retrying", "retrying", "failed"]
    assert [a.attempt for a in world.attempts(flow.flow_id)] == [1, 2, 3]
    assert [a.detail for a in world.attempts(flow.flow_id)] == [
        raised_text(f"RuntimeError: boom {n}") for n in (1, 2, 3)
    ]
    assert [e.operation for e in world.events(flow.flow_id)[2:]] == [
        "execute_phase", "complete_phase", "reattempt_phase", "complete_phase", "reattempt_phase", "complete_phase"
    ]  # fmt: skip
    world.assert_views_at(flow.flow_id, 8)


async def test_an_error_never_retried_fails_the_flow_at_once() -> None:
    policy = PhasePolicy(max_attempts=5, never_retry=(KeyError,))
    world = World(definition(policy, collect=Handler(KeyError("k"))))
    flow = await world.flow()
    done = await run_and_complete(world, await claim(world, flow))
    error = raised_text("KeyError: 'k'")
    assert done is not None and (done.status, done.error) == (FlowStatus.FAILED, f"{error}; {RETRY_TEXT}")
    assert [(a.result, a.detail) for a in world.attempts(flow.flow_id)] == [("failed", error)]


@pytest.mark.parametrize(
    "step", [PhaseFailed("no rows", {"row": 3}), PhaseOutcome.failed("no rows", {"row": 3})], ids=["raised", "returned"]
)
async def test_a_phase_that_fails_its_flow_is_not_retried(step: object) -> None:
    handler = Handler(step)
    world = World(definition(PhasePolicy(max_attempts=5), collect=handler))
    flow = await world.flow()
    claimed = await claim(world, flow)
    end = await world.execution().run_claimed(claimed)
    assert (end.error, end.retry_at) == (None, None) and end.outcome is not None
    done = await world.execution().complete_run(claimed, end, actor="worker")
    assert done is not None and (done.status, done.error, done.phase_results["collect"]) == (
        FlowStatus.FAILED,
        "no rows",
        {"row": 3},
    )
    assert (world.results(flow.flow_id), handler.calls) == (["failed"], 1)
    assert await claim_due(world, DueWork(TENANT, flow.flow_id)) is None  # nothing is due


async def test_an_attempt_past_its_timeout_is_cancelled_and_is_a_failed_attempt() -> None:
    handler = Handler(WAIT, WAIT)
    policy = PhasePolicy(timeout_seconds=0.02, max_attempts=2, backoff=Backoff(initial_seconds=0.5, jitter=0))
    world = World(definition(policy, collect=handler))
    flow = await world.flow()
    claimed = await claim(world, flow)
    end = await world.execution().run_claimed(claimed)
    assert handler.cancelled == 1
    assert end == AttemptEnd.failed(
        "phase 'collect' timed out after 0.02 s", world.clock.now() + timedelta(seconds=0.5)
    )
    await world.execution().complete_run(claimed, end, actor="worker")
    assert world.results(flow.flow_id) == ["retrying"]
    world.clock.advance(0.5)
    last = await claim_due(world, DueWork(TENANT, flow.flow_id))
    assert last is not None
    done = await run_and_complete(world, last)
    assert done is not None and (done.status, handler.cancelled) == (FlowStatus.FAILED, 2)
    timed_out = "phase 'collect' timed out after 0.02 s"
    assert (
        done.error
        == f"phase 'collect' failed after 2 attempts (attempt 1: {timed_out}; attempt 2: {timed_out}); {RETRY_TEXT}"
    )


async def test_a_timeout_the_handler_raises_itself_is_an_error_of_the_handler() -> None:
    world = World(definition(PhasePolicy(max_attempts=1), collect=Handler(TimeoutError("upstream"))))
    flow = await world.flow()
    end = await world.execution().run_claimed(await claim(world, flow))
    assert end == AttemptEnd.failed(raised_text("TimeoutError: upstream"), None)


async def test_a_timeout_the_handler_raises_itself_is_judged_by_the_errors_never_retried() -> None:
    never = PhasePolicy(max_attempts=3, never_retry=(TimeoutError,))
    world = World(definition(never, collect=Handler(TimeoutError("upstream"), TimeoutError("upstream"))))
    flow = await world.flow()
    end = await world.execution().run_claimed(await claim(world, flow))
    assert end == AttemptEnd.failed(raised_text("TimeoutError: upstream"), None)  # not retried


async def test_each_phase_runs_under_its_own_policy() -> None:
    quick = PhasePolicy(timeout_seconds=0.02, max_attempts=1)
    patient = PhasePolicy(timeout_seconds=30, max_attempts=3, backoff=Backoff(initial_seconds=2, jitter=0))
    handler = Handler(WAIT, RuntimeError("boom"))
    world = World(dataclasses.replace(definition(patient, collect=handler), policies={"collect": quick}))
    flow = await world.flow()
    end = await world.execution().run_claimed(await claim(world, flow))
    assert end == AttemptEnd.failed("phase 'collect' timed out after 0.02 s", None)  # collect's: one attempt
    other = await world.flow()
    claimed = await claim(world, other)
    end = await world.execution().run_claimed(claimed)
    assert end == AttemptEnd.failed(raised_text("RuntimeError: boom"), None)
    assert world.execution().policy_of(other, "collect") is quick
    assert world.execution().policy_of(other, "review") is patient


async def test_the_next_attempts_delay_falls_where_the_random_spread_puts_it_in_the_jitter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class LowestSpread:
        def random(self) -> float:
            return 0.0

    monkeypatch.setattr(phase_execution, "random", LowestSpread())
    policy = PhasePolicy(backoff=Backoff(initial_seconds=1.0, jitter=0.5))
    world = World(definition(policy, collect=Handler(RuntimeError("boom"))))
    flow = await world.flow()
    end = await world.execution().run_claimed(await claim(world, flow))
    assert end.retry_at == world.clock.now() + timedelta(seconds=0.5)  # the low end of 1 s +- 50 %


async def test_without_units_of_its_own_a_handler_reads_through_the_parts_unit_of_work() -> None:
    async def read(flow: Flow, context: PhaseContext) -> None:
        assert (await context.flows.get(TENANT, flow.flow_id)).flow_id == flow.flow_id

    world = World(definition(collect=Handler(during=read)))
    flow = await world.flow()
    claimed = await claim(world, flow)
    alone = PhaseExecution(world.unit(), world.registry, world.clock)
    end = await alone.run_claimed(claimed)
    assert end.outcome is not None and end.outcome.kind == PhaseResultKind.COMPLETED


async def test_a_domain_error_of_a_handlers_read_is_a_failed_attempt_retried_whatever_the_policy() -> None:
    policy = PhasePolicy(never_retry=(FlowBusy,), backoff=Backoff(jitter=0))
    world = World(definition(policy, collect=Handler(FlowBusy("lock_timeout"))))
    flow = await world.flow()
    end = await world.execution().run_claimed(await claim(world, flow))
    assert end.error == raised_text(f"FlowBusy: {FlowBusy('lock_timeout')}")
    assert end.retry_at == world.clock.now() + timedelta(seconds=1)  # the backoff's first delay


async def test_a_refusal_of_the_flows_own_data_fails_the_flow_at_once_as_phase_failed_would() -> None:
    refusal = InvalidFlowInput("the configuration's 'rows' is not a list")
    world = World(definition(PhasePolicy(max_attempts=5), collect=Handler(refusal)))
    flow = await world.flow()
    claimed = await claim(world, flow)
    end = await world.execution().run_claimed(claimed)
    assert end.retry_at is None and end.outcome is not None and end.outcome.kind == PhaseResultKind.FAILED
    done = await world.execution().complete_run(claimed, end, actor="worker")
    error = f"{raised_text(f'InvalidFlowInput: {refusal}')}; {RETRY_TEXT}"
    assert done is not None and (done.status, done.error) == (FlowStatus.FAILED, error)
    assert world.results(flow.flow_id) == ["failed"]  # one attempt: another would be refused the same way
