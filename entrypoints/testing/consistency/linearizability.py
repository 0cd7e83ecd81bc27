"""A Wing & Gong (Knossos-style) linearizability check of one flow's history against the reference model.

A history is linearizable when its calls can be put in one order that respects real time (a call that returned
before another was invoked comes first) and in which the reference model, applied call by call, gives every
observed result: the same state for a success, the same error for a failure, nothing where nothing was claimed
or a completion was discarded.

Besides a client's operations, a call is one part of phase execution (:class:`Step`): a claim, the completion of a
claimed attempt (identified by its run id), a runner's claim of due work, the takeover of an expired lease, or a
read. Each is one transaction, so each is one point in the order; running the handler between a claim and its
completion changes nothing stored.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.lifecycle import Operation
from entrypoints.testing.consistency.model import (
    End,
    ModelFlow,
    Prediction,
    matching,
    predict,
    predict_claim,
    predict_claim_due,
    predict_completion,
    predict_take_over,
)


class Step(StrEnum):
    CLAIM = "claim"
    """``claim_phase`` of ``execute_phase`` (or ``retry``: the call's ``end`` is None, its operation says which)."""
    COMPLETE = "complete"
    """``complete_run`` of the attempt ``run_id``, ended as ``end``."""
    CLAIM_DUE = "claim_due"
    TAKE_OVER = "take_over"
    """``claim_due`` for the expired lease of ``run_id``."""
    READ = "read"


@dataclass(frozen=True)
class Call:
    client: str
    flow_id: UUID
    operation: str
    """An :class:`Operation` a client asks for, or a :class:`Step`."""
    expected_version: int | None
    invoked_ns: int
    returned_ns: int
    error: str | None
    observed: tuple | None
    """The flow after the call, None when it returned nothing (nothing claimed, a completion discarded)."""
    run_id: UUID | None = None
    """The attempt the call claimed, completed or took over."""
    end: End | None = None
    claimed_as: Operation | None = None
    """For a claim: ``execute_phase`` or ``retry``."""


def prediction_for(model: ModelFlow, call: Call) -> Prediction:
    owner, run_id = call.client, call.run_id
    if call.operation == Step.CLAIM:
        assert call.claimed_as is not None
        return predict_claim(model, call.claimed_as, run_id or UUID(int=0), owner, call.expected_version)
    if call.operation == Step.COMPLETE:
        assert run_id is not None and call.end is not None
        return predict_completion(model, run_id, call.end)
    if call.operation == Step.CLAIM_DUE:
        return predict_claim_due(model, run_id or UUID(int=0), owner, tenant_full=False)
    if call.operation == Step.TAKE_OVER:
        assert run_id is not None
        return predict_take_over(model, run_id)
    if call.operation == Step.READ:
        return Prediction(outcomes=(model,))
    return predict(model, Operation(call.operation), call.expected_version)


def apply(model: ModelFlow, call: Call) -> ModelFlow | None:
    """The model after ``call``, or None when the model cannot produce what the call observed."""
    prediction = prediction_for(model, call)
    if call.error is not None:
        return model if prediction.error == call.error else None
    if prediction.error is not None:
        return None
    if prediction.none:
        return prediction.outcomes[0] if call.observed is None else None
    if call.observed is None:
        return None
    return matching(prediction, call.observed)


def linearize(initial: ModelFlow, calls: list[Call]) -> list[Call] | None:
    """An order of ``calls`` that explains them all, or None when there is none."""
    calls = sorted(calls, key=lambda c: c.invoked_ns)
    seen: set[tuple] = set()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(calls) + 1000))

    def search(done: frozenset[int], model: ModelFlow) -> list[Call] | None:
        if len(done) == len(calls):
            return []
        pending = [i for i in range(len(calls)) if i not in done]
        first_return = min(calls[i].returned_ns for i in pending)
        for i in pending:
            call = calls[i]
            if call.invoked_ns > first_return:  # a pending call returned before this one began: it goes first
                break
            nxt = apply(model, call)
            if nxt is None:
                continue
            key = (done | {i}, nxt.key(), nxt.attempts)
            if key in seen:
                continue
            seen.add(key)
            rest = search(done | {i}, nxt)
            if rest is not None:
                return [call, *rest]
        return None

    return search(frozenset(), initial)


def final_state(initial: ModelFlow, order: list[Call]) -> ModelFlow:
    model = initial
    for call in order:
        nxt = apply(model, call)
        assert nxt is not None
        model = nxt
    return model


def describe(call: Call) -> str:
    """One line of a history that is not linearizable."""
    what = call.operation if call.end is None else f"{call.operation} ({call.end})"
    if call.claimed_as is not None:
        what = f"{call.operation} ({call.claimed_as})"
    run = f" run={str(call.run_id)[:8]}" if call.run_id else ""
    result = call.error or ("nothing" if call.observed is None else call.observed[:2])
    when = f"[{call.invoked_ns}..{call.returned_ns}]"
    return f"  {call.client} {what}{run} expected={call.expected_version} -> {result} {when}"
