"""What a phase handler returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class PhaseResultKind(StrEnum):
    COMPLETED = "completed"
    NEEDS_INPUT = "needs_input"
    FAILED = "failed"


@dataclass(frozen=True)
class PhaseOutcome:
    kind: PhaseResultKind
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    trace: dict[str, Any] = field(default_factory=dict, compare=False)
    """How the phase ran (delegation timings, bridge events). Recorded with the event, never replayed."""
    bridge_state: dict[str, Any] | None = field(default=None, compare=False)
    """The state the CrewAI bridge's kickoff left, stored with the child record in the same transaction."""

    def with_trace(self, **trace: Any) -> PhaseOutcome:
        return PhaseOutcome(self.kind, self.result, self.error, {**self.trace, **trace}, self.bridge_state)

    @classmethod
    def completed(cls, result: dict[str, Any]) -> PhaseOutcome:
        return cls(PhaseResultKind.COMPLETED, result)

    @classmethod
    def needs_input(cls, result: dict[str, Any]) -> PhaseOutcome:
        return cls(PhaseResultKind.NEEDS_INPUT, result)

    @classmethod
    def failed(cls, error: str, result: dict[str, Any] | None = None) -> PhaseOutcome:
        return cls(PhaseResultKind.FAILED, result or {}, error)
