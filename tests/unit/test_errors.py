"""Domain errors carry the facts a caller needs (the attributes the HTTP layer maps) and say them in the message."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.auth import AuthenticationFailed
from domain.echo import excerpt
from domain.errors import (
    ConcurrentModification,
    FlowBusy,
    FlowNotFound,
    IllegalTransition,
    InvalidCursor,
    PhaseFailed,
    StorageUnavailable,
    UnknownFlowType,
    UnknownPhase,
    VersionConflict,
)
from domain.idempotency import IdempotencyKeyInProgress, IdempotencyKeyReused, IdempotentReplay, StoredResponse
from domain.lifecycle import FlowStatus, Operation

FLOW_ID = uuid4()
LONG_KEY = "k" * 100 + "TAIL"
QUOTED = "k" * 99 + "…"
"""What a message repeats of LONG_KEY: its first 99 characters and an ellipsis (domain/echo.py)."""


def test_flow_not_found_names_the_flow() -> None:
    error = FlowNotFound(FLOW_ID)
    assert error.flow_id == FLOW_ID
    assert str(error) == f"flow {FLOW_ID} was not found"


def test_illegal_transition_names_the_flow_status_operation_and_reason() -> None:
    error = IllegalTransition(FLOW_ID, FlowStatus.COMPLETED, Operation.START, "it is over")
    assert (error.flow_id, error.current_status, error.operation, error.reason) == (
        FLOW_ID,
        "completed",
        "start",
        "it is over",
    )
    assert str(error) == f"flow {FLOW_ID} is 'completed': operation 'start' is not allowed (it is over)"


def test_illegal_transition_without_a_reason_says_only_what_is_not_allowed() -> None:
    error = IllegalTransition(FLOW_ID, FlowStatus.PAUSED, Operation.PAUSE)
    assert error.reason is None
    assert str(error) == f"flow {FLOW_ID} is 'paused': operation 'pause' is not allowed"


def test_version_conflict_names_both_versions() -> None:
    error = VersionConflict(FLOW_ID, 3, 5)
    assert (error.flow_id, error.expected_version, error.current_version) == (FLOW_ID, 3, 5)
    assert str(error) == f"flow {FLOW_ID} is at version 5, but the request expected version 3"


def test_unknown_flow_type_lists_the_known_types_sorted() -> None:
    error = UnknownFlowType("nope", ["planning", "assessment"])
    assert (error.flow_type, error.known) == ("nope", ["assessment", "planning"])
    assert str(error) == "unknown flow type 'nope'; known types: assessment, planning"


def test_unknown_flow_type_without_known_types_says_none() -> None:
    error = UnknownFlowType("nope")
    assert error.known == []
    assert str(error) == "unknown flow type 'nope'; known types: none"


def test_unknown_phase_lists_the_flows_phases() -> None:
    error = UnknownPhase(FLOW_ID, "nope", ["collect", "review"])
    assert (error.flow_id, error.phase, error.phases) == (FLOW_ID, "nope", ["collect", "review"])
    assert str(error) == f"flow {FLOW_ID} has no phase 'nope'; its phases are: collect, review"


def test_phase_failed_keeps_its_details_and_defaults_them_to_empty() -> None:
    assert PhaseFailed("bad input", {"field": "x"}).details == {"field": "x"}
    assert PhaseFailed("bad input").details == {}
    assert str(PhaseFailed("bad input")) == "bad input"


def test_invalid_cursor_quotes_at_most_100_characters_of_the_cursor() -> None:
    error = InvalidCursor(LONG_KEY)
    assert error.cursor == LONG_KEY
    assert str(error) == f"'{QUOTED}' is not a cursor this listing gave out"


@pytest.mark.parametrize("outcome_unknown", [False, True])
def test_storage_unavailable_keeps_its_reason(outcome_unknown: bool) -> None:
    error = StorageUnavailable("connection refused", outcome_unknown=outcome_unknown)
    assert (error.reason, error.outcome_unknown) == ("connection refused", outcome_unknown)
    assert "(connection refused)" in str(error)
    assert ("may or may not have been applied" in str(error)) is outcome_unknown


def test_concurrent_modification_and_flow_busy_keep_their_reason() -> None:
    conflict = ConcurrentModification("serialization failure")
    assert conflict.reason == "serialization failure"
    assert str(conflict) == (
        "the change conflicts with a concurrent one (serialization failure); nothing was changed, retry it"
    )
    busy = FlowBusy("lock timeout")
    assert isinstance(busy, ConcurrentModification)
    assert busy.reason == "lock timeout"
    assert str(busy) == "the flow is busy with another operation (lock timeout); nothing was changed, retry it shortly"


def test_authentication_failed_keeps_its_reason_and_is_not_missing_by_default() -> None:
    error = AuthenticationFailed("token expired")
    assert (error.reason, error.missing, str(error)) == ("token expired", False, "token expired")
    assert AuthenticationFailed("no credential", missing=True).missing is True


def test_an_idempotent_replay_carries_the_key_and_the_first_answer() -> None:
    response = StoredResponse(201, b"{}")
    replay = IdempotentReplay("key-1", response)
    assert (replay.key, replay.response) == ("key-1", response)
    assert str(replay) == "idempotency key 'key-1' was answered before"


def test_a_reused_key_is_quoted_to_100_characters() -> None:
    error = IdempotencyKeyReused(LONG_KEY)
    assert error.key == LONG_KEY
    assert str(error) == (
        f"the Idempotency-Key {QUOTED!r} was already used for a different request "
        "(another operation, flow or body); use a new key for a new request"
    )


def test_a_key_in_progress_is_quoted_to_100_characters() -> None:
    error = IdempotencyKeyInProgress(LONG_KEY)
    assert error.key == LONG_KEY
    assert str(error) == (
        f"a request with the Idempotency-Key {QUOTED!r} is still in progress; retry after it has finished"
    )


def test_a_long_flow_type_phase_or_replayed_key_is_quoted_to_100_characters() -> None:
    assert str(UnknownFlowType(LONG_KEY, ["fake"])) == f"unknown flow type '{QUOTED}'; known types: fake"
    assert UnknownFlowType(LONG_KEY).flow_type == LONG_KEY
    unknown = UnknownPhase(FLOW_ID, LONG_KEY, ["collect"])
    assert (unknown.phase, str(unknown)) == (
        LONG_KEY,
        f"flow {FLOW_ID} has no phase '{QUOTED}'; its phases are: collect",
    )
    replay = IdempotentReplay(LONG_KEY, StoredResponse(200, b""))
    assert (replay.key, str(replay)) == (LONG_KEY, f"idempotency key {QUOTED!r} was answered before")


def test_an_excerpt_keeps_input_up_to_its_limit_and_cuts_longer_input_to_it() -> None:
    assert excerpt("x" * 100) == "x" * 100
    assert excerpt("x" * 101) == "x" * 99 + "…"
    assert excerpt("abcdef", limit=4) == "abc…"
    assert excerpt("abcd", limit=4) == "abcd"
    assert excerpt(12345, limit=3) == "12…"
