"""Every (status, operation) pair: allowed with the expected result, or rejected."""

from __future__ import annotations

import itertools

import pytest

from domain.errors import IllegalTransition, StaleRun
from domain.flow import Flow
from domain.lifecycle import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    FlowStatus,
    Operation,
    allowed_operations,
    allowed_targets,
    is_allowed,
)
from tests.unit.flow_builders import Ticker, apply, flow_in, running_flow

S, O = FlowStatus, Operation

# Written out by hand, independently of domain.lifecycle: the result of each allowed
# operation when its phase (if any) completes and more phases remain. Executing or retrying a
# phase claims it (the flow runs it); the attempt's end is its own operation, complete_phase.
EXPECTED: dict[tuple[FlowStatus, Operation], FlowStatus] = {
    (S.INITIALIZED, O.START): S.RUNNING,
    (S.INITIALIZED, O.CANCEL): S.CANCELLED,
    (S.INITIALIZED, O.DELETE): S.DELETED,
    (S.RUNNING, O.EXECUTE_PHASE): S.RUNNING,
    (S.RUNNING, O.COMPLETE_PHASE): S.RUNNING,
    (S.RUNNING, O.REATTEMPT_PHASE): S.RUNNING,
    (S.RUNNING, O.PAUSE): S.PAUSED,
    (S.RUNNING, O.CANCEL): S.CANCELLED,
    (S.RUNNING, O.DELETE): S.DELETED,
    (S.PAUSED, O.RESUME): S.RUNNING,
    (S.PAUSED, O.CANCEL): S.CANCELLED,
    (S.PAUSED, O.COMPLETE_PHASE): S.PAUSED,
    (S.PAUSED, O.DELETE): S.DELETED,
    (S.WAITING_FOR_INPUT, O.SUBMIT_INPUT): S.RUNNING,
    (S.WAITING_FOR_INPUT, O.PAUSE): S.PAUSED,
    (S.WAITING_FOR_INPUT, O.CANCEL): S.CANCELLED,
    (S.WAITING_FOR_INPUT, O.DELETE): S.DELETED,
    (S.FAILED, O.RETRY): S.RUNNING,
    (S.FAILED, O.CANCEL): S.CANCELLED,
    (S.FAILED, O.DELETE): S.DELETED,
    (S.COMPLETED, O.DELETE): S.DELETED,
    (S.CANCELLED, O.DELETE): S.DELETED,
    (S.INITIALIZED, O.MIGRATE): S.INITIALIZED,
    (S.RUNNING, O.MIGRATE): S.RUNNING,
    (S.PAUSED, O.MIGRATE): S.PAUSED,
    (S.WAITING_FOR_INPUT, O.MIGRATE): S.WAITING_FOR_INPUT,
    (S.FAILED, O.MIGRATE): S.FAILED,
}

# Only phase execution asks for these: no client may, so no status lists them among its allowed operations.
INTERNAL = {O.COMPLETE_PHASE, O.REATTEMPT_PHASE}
# Allowed by the table but not listed: whether a flow can migrate depends on the versions registered of its type.
UNLISTED = INTERNAL | {O.MIGRATE}

OPERATIONS = [op for op in Operation if op != Operation.CREATE]  # creation makes a flow; it applies to none
PAIRS = list(itertools.product(FlowStatus, OPERATIONS))


def flow_for(status: FlowStatus, operation: Operation) -> tuple[Flow, Ticker]:
    """A flow in ``status`` as ``operation`` would find it: with an attempt in progress for ``complete_phase``,
    between two attempts for ``reattempt_phase`` (where a phase can run at all: running or paused)."""
    if status in (S.RUNNING, S.PAUSED) and operation in INTERNAL:
        return running_flow(paused=status == S.PAUSED, retrying=operation == O.REATTEMPT_PHASE)
    return flow_in(status)


def test_the_table_allows_exactly_the_expected_pairs() -> None:
    assert set(TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize(("status", "operation"), PAIRS, ids=[f"{s}-{o}" for s, o in PAIRS])
def test_every_status_and_operation(status: FlowStatus, operation: Operation) -> None:
    flow, tick = flow_for(status, operation)
    version, events = flow.version, len(flow.pending_events)
    if (status, operation) in EXPECTED:
        apply(flow, operation, tick)
        assert flow.status == EXPECTED[(status, operation)]
        assert flow.version == version + 1
        assert len(flow.pending_events) == events + 1
        event = flow.pending_events[-1]
        assert (event.from_status, event.to_status, event.operation) == (status, flow.status, operation)
    elif operation == O.COMPLETE_PHASE:
        # no attempt can be in progress in this status (cancel and delete end it; so does every outcome), so the
        # completion is of a run the flow does not run: stale, and nothing is recorded
        assert flow.run is None
        with pytest.raises(StaleRun) as stale:
            apply(flow, operation, tick)
        assert (stale.value.flow_id, stale.value.reason) == (flow.flow_id, f"the flow is {status}")
        assert (flow.status, flow.version, len(flow.pending_events)) == (status, version, events)
    else:
        with pytest.raises(IllegalTransition) as raised:
            apply(flow, operation, tick)
        assert raised.value.current_status == status
        assert raised.value.operation == operation
        assert str(flow.flow_id) in str(raised.value) and str(status) in str(raised.value)
        assert (flow.status, flow.version, len(flow.pending_events)) == (status, version, events)


@pytest.mark.parametrize(("status", "operation"), PAIRS, ids=[f"{s}-{o}" for s, o in PAIRS])
def test_the_table_queries_agree_with_the_expected_pairs(status: FlowStatus, operation: Operation) -> None:
    allowed = (status, operation) in EXPECTED
    assert is_allowed(status, operation) is allowed
    assert (operation in allowed_operations(status)) is (allowed and operation not in UNLISTED)
    if allowed:
        assert EXPECTED[(status, operation)] in allowed_targets(status, operation)
    else:
        assert allowed_targets(status, operation) == frozenset()


@pytest.mark.parametrize("status", list(FlowStatus))
def test_allowed_operations_lists_only_the_statuss_own_operations(status: FlowStatus) -> None:
    expected = [op for (st, op) in EXPECTED if st == status and op not in UNLISTED]
    assert sorted(allowed_operations(status)) == sorted(expected)


# Every outcome of the operations that have more than one (the phase outcome or the paused phase decides). A
# phase that ends in a paused flow keeps it paused, unless the flow completed or failed with it.
PHASE_OUTCOMES = {S.RUNNING, S.WAITING_FOR_INPUT, S.COMPLETED, S.FAILED}
SEVERAL_OUTCOMES = {
    (S.RUNNING, O.COMPLETE_PHASE): PHASE_OUTCOMES,
    (S.PAUSED, O.COMPLETE_PHASE): {S.PAUSED, S.COMPLETED, S.FAILED},
    (S.WAITING_FOR_INPUT, O.SUBMIT_INPUT): PHASE_OUTCOMES,
    (S.PAUSED, O.RESUME): {S.RUNNING, S.WAITING_FOR_INPUT},
}


@pytest.mark.parametrize("pair", list(EXPECTED), ids=[f"{s}-{o}" for s, o in EXPECTED])
def test_each_allowed_pair_leads_to_exactly_its_outcomes(pair: tuple[FlowStatus, Operation]) -> None:
    assert TRANSITIONS[pair] == SEVERAL_OUTCOMES.get(pair, {EXPECTED[pair]})


def test_terminal_and_active_statuses_split_the_lifecycle() -> None:
    assert {S.COMPLETED, S.CANCELLED, S.DELETED} == TERMINAL_STATUSES
    assert set(FlowStatus) - TERMINAL_STATUSES == ACTIVE_STATUSES
