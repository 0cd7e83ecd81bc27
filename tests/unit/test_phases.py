"""PhaseOutcome: what a phase handler returns, built by its constructors and extended with a trace."""

from __future__ import annotations

from domain.phases import PhaseOutcome, PhaseResultKind


def test_a_failed_outcome_keeps_its_error_and_result_and_defaults_the_result_to_empty() -> None:
    failed = PhaseOutcome.failed("boom", {"partial": 1})
    assert (failed.kind, failed.result, failed.error) == (PhaseResultKind.FAILED, {"partial": 1}, "boom")
    bare = PhaseOutcome.failed("boom")
    assert (bare.kind, bare.result, bare.error) == (PhaseResultKind.FAILED, {}, "boom")


def test_completed_and_needs_input_outcomes_carry_their_result_and_no_error() -> None:
    assert PhaseOutcome.completed({"n": 1}) == PhaseOutcome(PhaseResultKind.COMPLETED, {"n": 1}, None)
    assert PhaseOutcome.needs_input({"ask": 1}) == PhaseOutcome(PhaseResultKind.NEEDS_INPUT, {"ask": 1}, None)


def test_with_trace_adds_to_the_trace_and_keeps_everything_else() -> None:
    outcome = PhaseOutcome.failed("boom", {"partial": 1}).with_trace(a=1).with_trace(b=2)
    assert (outcome.kind, outcome.result, outcome.error) == (PhaseResultKind.FAILED, {"partial": 1}, "boom")
    assert outcome.trace == {"a": 1, "b": 2}
    assert outcome.with_trace(a=3).trace == {"a": 3, "b": 2}


def test_with_trace_keeps_the_bridges_state() -> None:
    outcome = PhaseOutcome(PhaseResultKind.COMPLETED, {"n": 1}, bridge_state={"kickoff": 2})
    assert outcome.with_trace(a=1).bridge_state == {"kickoff": 2}
    assert PhaseOutcome.completed({}).bridge_state is None
