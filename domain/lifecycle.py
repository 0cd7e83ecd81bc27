"""The flow lifecycle as an explicit transition table.

``TRANSITIONS[(status, operation)]`` is the set of statuses the operation may lead to
from ``status``. A pair that is absent is illegal. Operations with more than one
possible outcome (``execute_phase``, ``submit_input``, ``retry``) end in the status that
the phase outcome decides; the table bounds what is possible.
"""

from __future__ import annotations

from enum import StrEnum


class FlowStatus(StrEnum):
    INITIALIZED = "initialized"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING_FOR_INPUT = "waiting_for_input"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DELETED = "deleted"


class Operation(StrEnum):
    CREATE = "create"
    START = "start"
    EXECUTE_PHASE = "execute_phase"
    PAUSE = "pause"
    RESUME = "resume"
    SUBMIT_INPUT = "submit_input"
    CANCEL = "cancel"
    RETRY = "retry"
    DELETE = "delete"
    COMPLETE_PHASE = "complete_phase"
    """An attempt of the running phase ended: its outcome recorded, or its next attempt scheduled."""
    REATTEMPT_PHASE = "reattempt_phase"
    """The next attempt of a running phase whose earlier attempt failed began."""
    MIGRATE = "migrate"
    """The flow moved to another version of its flow type (domain/contract.py); its status stays."""


class PhaseState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


S = FlowStatus
O = Operation

# Where a phase ends, it can leave the flow running (more phases), waiting for input,
# completed (it was the last phase) or failed.
_PHASE_OUTCOMES = frozenset({S.RUNNING, S.WAITING_FOR_INPUT, S.COMPLETED, S.FAILED})
# Executing (or retrying) a phase claims it: the flow is running it until an attempt ends (complete_phase).
_CLAIMED = frozenset({S.RUNNING})

TRANSITIONS: dict[tuple[FlowStatus, Operation], frozenset[FlowStatus]] = {
    (S.INITIALIZED, O.START): frozenset({S.RUNNING}),
    (S.INITIALIZED, O.CANCEL): frozenset({S.CANCELLED}),
    (S.INITIALIZED, O.DELETE): frozenset({S.DELETED}),
    (S.RUNNING, O.EXECUTE_PHASE): _CLAIMED,
    (S.RUNNING, O.COMPLETE_PHASE): _PHASE_OUTCOMES,
    (S.RUNNING, O.REATTEMPT_PHASE): _CLAIMED,
    (S.RUNNING, O.PAUSE): frozenset({S.PAUSED}),
    (S.RUNNING, O.CANCEL): frozenset({S.CANCELLED}),
    (S.RUNNING, O.DELETE): frozenset({S.DELETED}),
    (S.PAUSED, O.RESUME): frozenset({S.RUNNING, S.WAITING_FOR_INPUT}),
    (S.PAUSED, O.CANCEL): frozenset({S.CANCELLED}),
    # a flow paused while its phase ran stays paused when the phase ends, unless the flow ended with it
    (S.PAUSED, O.COMPLETE_PHASE): frozenset({S.PAUSED, S.COMPLETED, S.FAILED}),
    (S.PAUSED, O.DELETE): frozenset({S.DELETED}),
    (S.WAITING_FOR_INPUT, O.SUBMIT_INPUT): frozenset({S.RUNNING, S.WAITING_FOR_INPUT, S.COMPLETED, S.FAILED}),
    (S.WAITING_FOR_INPUT, O.PAUSE): frozenset({S.PAUSED}),
    (S.WAITING_FOR_INPUT, O.CANCEL): frozenset({S.CANCELLED}),
    (S.WAITING_FOR_INPUT, O.DELETE): frozenset({S.DELETED}),
    (S.FAILED, O.RETRY): _CLAIMED,
    (S.FAILED, O.CANCEL): frozenset({S.CANCELLED}),
    (S.FAILED, O.DELETE): frozenset({S.DELETED}),
    (S.COMPLETED, O.DELETE): frozenset({S.DELETED}),
    (S.CANCELLED, O.DELETE): frozenset({S.DELETED}),
    # a flow that still has phases to run may move to another version of its type; its status stays
    (S.INITIALIZED, O.MIGRATE): frozenset({S.INITIALIZED}),
    (S.RUNNING, O.MIGRATE): frozenset({S.RUNNING}),
    (S.PAUSED, O.MIGRATE): frozenset({S.PAUSED}),
    (S.WAITING_FOR_INPUT, O.MIGRATE): frozenset({S.WAITING_FOR_INPUT}),
    (S.FAILED, O.MIGRATE): frozenset({S.FAILED}),
}

TERMINAL_STATUSES = frozenset({S.COMPLETED, S.CANCELLED, S.DELETED})
ACTIVE_STATUSES = frozenset({S.INITIALIZED, S.RUNNING, S.PAUSED, S.WAITING_FOR_INPUT, S.FAILED})


def allowed_targets(status: FlowStatus, operation: Operation) -> frozenset[FlowStatus]:
    """The statuses ``operation`` may lead to from ``status``; empty when it is illegal."""
    return TRANSITIONS.get((status, operation), frozenset())


def is_allowed(status: FlowStatus, operation: Operation) -> bool:
    return (status, operation) in TRANSITIONS


INTERNAL_OPERATIONS = frozenset({O.COMPLETE_PHASE, O.REATTEMPT_PHASE})
"""Operations only phase execution performs (application/phase_execution.py); no client asks for them."""
UNLISTED_OPERATIONS = INTERNAL_OPERATIONS | {O.MIGRATE}
"""Operations a flow's ``allowed_operations`` does not list: phase execution's, and ``migrate``, which depends on
the versions of its type that are registered rather than on its status alone."""


def allowed_operations(status: FlowStatus) -> list[Operation]:
    """The operations a client may ask for in ``status``."""
    return [op for (st, op) in TRANSITIONS if st == status and op not in UNLISTED_OPERATIONS]
