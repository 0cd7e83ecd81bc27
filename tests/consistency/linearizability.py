"""A Wing & Gong (Knossos-style) linearizability check of one flow's history against the reference model.

A history is linearizable when its calls can be put in one order that respects real time (a call that returned
before another was invoked comes first) and in which the reference model, applied call by call, gives every
observed result: the same state for a success, the same error for a failure.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from uuid import UUID

from domain.lifecycle import Operation
from tests.consistency.model import ModelFlow, matching, predict


@dataclass(frozen=True)
class Call:
    client: str
    flow_id: UUID
    operation: Operation
    expected_version: int | None
    invoked_ns: int
    returned_ns: int
    error: str | None
    observed: tuple | None


def apply(model: ModelFlow, call: Call) -> ModelFlow | None:
    """The model after ``call``, or None when the model cannot produce what the call observed."""
    prediction = predict(model, call.operation, call.expected_version)
    if call.error is not None:
        return model if prediction.error == call.error else None
    if prediction.error is not None or call.observed is None:
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
            key = (done | {i}, nxt.key())
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
