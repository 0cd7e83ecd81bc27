"""A phase's policy: its timeout, its attempts, the backoff between them, the errors it never retries."""

from __future__ import annotations

import random

import pytest

from domain.flow_types import ChildTable, FlowTypeDefinition, pure_phase
from domain.phase_policy import DEFAULT_POLICY, Backoff, PhasePolicy


def test_the_defaults() -> None:
    assert Backoff() == Backoff(initial_seconds=1.0, multiplier=2.0, maximum_seconds=60.0, jitter=0.1)
    assert PhasePolicy() == PhasePolicy(timeout_seconds=300.0, max_attempts=3, backoff=Backoff(), never_retry=())
    assert PhasePolicy() == DEFAULT_POLICY


def test_each_failed_attempt_multiplies_the_delay_up_to_the_maximum() -> None:
    backoff = Backoff(initial_seconds=0.5, multiplier=3.0, maximum_seconds=10.0, jitter=0.0)
    assert [backoff.delay_seconds(n) for n in range(1, 6)] == [0.5, 1.5, 4.5, 10.0, 10.0]
    assert backoff.delay_seconds(0) == 0.5  # no attempt counted yet: the first delay
    assert Backoff(multiplier=1.0, jitter=0).delay_seconds(7) == 1.0  # a multiplier of 1: the same delay each time
    assert Backoff(initial_seconds=90, jitter=0).delay_seconds(1) == 60.0  # the maximum caps the first delay too


def test_the_spread_picks_the_delay_within_the_jitter() -> None:
    backoff = Backoff(initial_seconds=2.0, multiplier=2.0, maximum_seconds=60.0, jitter=0.25)
    assert backoff.delay_seconds(1) == 2.0  # the middle of the range by default: no jitter
    assert backoff.delay_seconds(1, 0.0) == 1.5
    assert backoff.delay_seconds(1, 1.0) == 2.5
    assert backoff.delay_seconds(2, 0.75) == 4.5
    assert Backoff(maximum_seconds=4, jitter=0.5).delay_seconds(10, 1.0) == 6.0  # jitter applies after the cap
    assert Backoff(jitter=1.0).delay_seconds(1, 0.0) == 0.0
    generator = random.Random(7)
    for attempts in range(1, 10):
        base = min(2.0 * 2.0 ** (attempts - 1), 60.0)
        for _ in range(50):
            assert base * 0.75 <= backoff.delay_seconds(attempts, generator.random()) <= base * 1.25


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"initial_seconds": -0.1}, "backoff delays cannot be negative"),
        ({"maximum_seconds": -1}, "backoff delays cannot be negative"),
        ({"multiplier": 0.99}, "a backoff's multiplier must be at least 1"),
        ({"jitter": -0.01}, "a backoff's jitter is a fraction between 0 and 1"),
        ({"jitter": 1.01}, "a backoff's jitter is a fraction between 0 and 1"),
    ],
)
def test_a_backoff_refuses_what_makes_no_delay(options: dict, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        Backoff(**options)
    assert str(raised.value) == message


def test_a_backoffs_limits_are_allowed() -> None:
    assert Backoff(initial_seconds=0, maximum_seconds=0, multiplier=1, jitter=0).delay_seconds(3) == 0.0
    assert Backoff(jitter=1).jitter == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout_seconds": 0}, "a phase's timeout must be positive"),
        ({"timeout_seconds": -5}, "a phase's timeout must be positive"),
        ({"max_attempts": 0}, "a phase is attempted at least once"),
    ],
)
def test_a_policy_refuses_no_time_or_no_attempt(options: dict, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        PhasePolicy(**options)
    assert str(raised.value) == message


def test_a_policys_smallest_timeout_and_attempts_are_allowed() -> None:
    policy = PhasePolicy(timeout_seconds=0.001, max_attempts=1)
    assert (policy.timeout_seconds, policy.max_attempts) == (0.001, 1)


def test_an_error_is_retried_unless_it_is_of_a_type_never_retried() -> None:
    policy = PhasePolicy(never_retry=(KeyError, PermissionError))
    assert policy.retries(None)  # a timeout, a worker that stopped
    assert policy.retries(ValueError("x"))
    assert not policy.retries(KeyError("k"))
    assert not policy.retries(PermissionError())
    assert policy.retries(FileExistsError())  # an OSError, but not a PermissionError: retried
    assert policy.retries(OSError())
    assert PhasePolicy().retries(RuntimeError("anything"))


class NotFound(LookupError):
    pass


def test_a_subclass_of_an_error_never_retried_is_never_retried() -> None:
    assert not PhasePolicy(never_retry=(LookupError,)).retries(NotFound())
    assert PhasePolicy(never_retry=(NotFound,)).retries(LookupError())


def test_a_flow_type_declares_a_policy_per_phase_and_one_for_the_others() -> None:
    quick = PhasePolicy(timeout_seconds=1, max_attempts=1)
    patient = PhasePolicy(timeout_seconds=3600, max_attempts=10)
    handler = pure_phase(lambda flow: None)  # type: ignore[arg-type, return-value]
    run, table = {"a": handler, "b": handler}, ChildTable("t_flows")
    definition = FlowTypeDefinition("t", ("a", "b"), run=run, child_table=table, policies={"a": quick})
    assert (definition.policy_for("a"), definition.policy_for("b")) == (quick, DEFAULT_POLICY)
    custom = FlowTypeDefinition(
        "t", ("a", "b"), run=run, child_table=table, policies={"a": quick}, default_policy=patient
    )
    assert (custom.policy_for("a"), custom.policy_for("b")) == (quick, patient)
