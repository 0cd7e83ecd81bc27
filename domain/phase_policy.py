"""How a phase is run: its timeout, how often it is attempted, how long to wait between attempts, and which
errors end it at once.

A flow type declares a :class:`PhasePolicy` per phase in its ``FlowTypeDefinition`` (``policies``), or one
``default_policy`` for all of them. What each attempt of a phase ended in decides what follows
(:func:`after_failed_attempt`):

- a handler that returns a failed outcome, or raises ``PhaseFailed`` (or ``InvalidFlowInput``), has judged its
  flow's own data: the flow is ``failed`` at once, never retried;
- an unexpected error, a timeout, or a worker that stopped (its lease expired) is a failed *attempt*: the phase is
  attempted again after the policy's backoff, up to ``max_attempts`` in all, unless the error is one of
  ``never_retry``;
- after the last attempt the flow is ``failed`` with an error that says how each attempt ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """The delay before attempt *n + 1* after *n* failed attempts: ``initial_seconds * multiplier ** (n - 1)``, at
    most ``maximum_seconds``, then moved by up to ``jitter`` of itself either way."""

    initial_seconds: float = 1.0
    multiplier: float = 2.0
    maximum_seconds: float = 60.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.initial_seconds < 0 or self.maximum_seconds < 0:
            raise ValueError("backoff delays cannot be negative")
        if self.multiplier < 1:
            raise ValueError("a backoff's multiplier must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("a backoff's jitter is a fraction between 0 and 1")

    def delay_seconds(self, failed_attempts: int, spread: float = 0.5) -> float:
        """The delay after ``failed_attempts`` (at least 1) failed attempts; ``spread`` in [0, 1] picks where in
        the jitter's range it falls (0.5: the middle, no jitter)."""
        base = min(self.initial_seconds * self.multiplier ** max(0, failed_attempts - 1), self.maximum_seconds)
        return max(0.0, base * (1 + self.jitter * (2 * spread - 1)))


@dataclass(frozen=True)
class PhasePolicy:
    timeout_seconds: float = 300.0
    """An attempt that runs longer is cancelled, and counts as a failed attempt."""
    max_attempts: int = 3
    """Attempts in all, the first included."""
    backoff: Backoff = field(default_factory=Backoff)
    never_retry: tuple[type[BaseException], ...] = ()
    """Errors that end the phase (and fail the flow) at their first occurrence."""

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0:
            raise ValueError("a phase's timeout must be positive")
        if self.max_attempts < 1:
            raise ValueError("a phase is attempted at least once")

    def retries(self, error: BaseException | None) -> bool:
        """Whether an attempt that ended with ``error`` (None: a timeout or a lost worker) may be attempted
        again, the number of attempts aside."""
        return error is None or not isinstance(error, self.never_retry)


DEFAULT_POLICY = PhasePolicy()
