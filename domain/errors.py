"""Domain errors. Each carries the facts a caller needs to explain what went wrong."""

from __future__ import annotations

from uuid import UUID

from domain.echo import excerpt


class DomainError(Exception):
    """Base class of every error MFO's domain raises on purpose."""


class FlowNotFound(DomainError):
    def __init__(self, flow_id: UUID) -> None:
        self.flow_id = flow_id
        super().__init__(f"flow {flow_id} was not found")


class IllegalTransition(DomainError):
    """``allowed``: the operations the flow does allow now, when they are fewer than its status allows (a flow
    running a phase allows no second ``execute_phase``); None: those of its status."""

    def __init__(
        self,
        flow_id: UUID,
        current_status: str,
        operation: str,
        reason: str | None = None,
        allowed: list[str] | None = None,
    ) -> None:
        self.flow_id = flow_id
        self.current_status = str(current_status)
        self.operation = str(operation)
        self.reason = reason
        self.allowed = allowed
        message = f"flow {flow_id} is '{self.current_status}': operation '{self.operation}' is not allowed"
        if reason:
            message += f" ({reason})"
        super().__init__(message)


class VersionConflict(DomainError):
    def __init__(self, flow_id: UUID, expected_version: int, current_version: int) -> None:
        self.flow_id = flow_id
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"flow {flow_id} is at version {current_version}, but the request expected version {expected_version}"
        )


class UnknownFlowType(DomainError):
    def __init__(self, flow_type: str, known: list[str] | None = None) -> None:
        self.flow_type = flow_type
        self.known = sorted(known or [])
        super().__init__(f"unknown flow type '{excerpt(flow_type)}'; known types: {', '.join(self.known) or 'none'}")


class UnknownPhase(DomainError):
    def __init__(self, flow_id: UUID, phase: str, phases: list[str]) -> None:
        self.flow_id = flow_id
        self.phase = phase
        self.phases = phases
        super().__init__(f"flow {flow_id} has no phase '{excerpt(phase)}'; its phases are: {', '.join(phases)}")


class InvalidFlowInput(DomainError):
    """A request's content is well-formed but not acceptable to the flow (for example, bad input)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class PhaseFailed(DomainError):
    """Raised by a phase handler when the flow's own data makes the phase fail.

    The orchestrator records it as the phase's failure (the flow becomes ``failed``);
    any other exception raised by a handler aborts the whole operation instead.
    """

    def __init__(self, message: str, details: dict | None = None) -> None:
        self.details = details or {}
        super().__init__(message)


class FlowTypeRegistrationError(DomainError):
    """A flow type could not be registered: a duplicate name or a malformed adapter."""


class InvalidCursor(DomainError):
    def __init__(self, cursor: str) -> None:
        self.cursor = cursor
        super().__init__(f"'{excerpt(cursor)}' is not a cursor this listing gave out")


class StorageUnavailable(DomainError):
    """The flow store did not answer (down, restarting, timed out). Nothing was changed, unless ``outcome_unknown``:
    the store stopped answering during the commit itself, so the change may have been applied."""

    def __init__(self, reason: str, *, outcome_unknown: bool = False) -> None:
        self.reason = reason
        self.outcome_unknown = outcome_unknown
        if outcome_unknown:
            super().__init__(
                f"the flow store stopped answering while committing ({reason}); the change may or may not have "
                "been applied: read the flow before retrying"
            )
        else:
            super().__init__(f"the flow store is unavailable ({reason}); nothing was changed, retry later")


class ConcurrentModification(DomainError):
    """A concurrent change won a race the locks did not cover. Nothing was changed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the change conflicts with a concurrent one ({reason}); nothing was changed, retry it")


class FlowBusy(ConcurrentModification):
    """Another operation held a lock this change needed for longer than the lock timeout. Nothing was changed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        DomainError.__init__(
            self, f"the flow is busy with another operation ({reason}); nothing was changed, retry it shortly"
        )


class StaleRun(DomainError):
    """An attempt of a phase ended after the flow stopped expecting it (cancelled, deleted, its lease given to
    another worker): its outcome is discarded, and only that is recorded."""

    def __init__(self, flow_id: UUID, run_id: UUID, reason: str) -> None:
        self.flow_id = flow_id
        self.run_id = run_id
        self.reason = reason
        super().__init__(f"run {run_id} of flow {flow_id} is no longer the flow's: {reason}")


class MigrationRefused(DomainError):
    """A flow cannot be moved to the version asked for: ``reason`` says why (a completed phase the new version drops,
    a phase in progress, no declared mapping). Nothing was changed."""

    def __init__(self, flow_id: UUID, from_version: int, to_version: int, reason: str) -> None:
        self.flow_id = flow_id
        self.from_version = from_version
        self.to_version = to_version
        self.reason = reason
        super().__init__(f"flow {flow_id} cannot move from version {from_version} to {to_version}: {reason}")


class UnknownFlowTypeVersion(DomainError):
    def __init__(self, flow_type: str, version: int, known: list[int]) -> None:
        self.flow_type = flow_type
        self.version = version
        self.known = sorted(known)
        listed = ", ".join(str(v) for v in self.known) or "none"
        super().__init__(f"flow type '{flow_type}' has no version {version}; registered versions: {listed}")
