"""The observer the orchestrator uses when none is given: it observes nothing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from uuid import UUID

from domain.events import Tenant
from domain.phases import PhaseOutcome


class _Unobserved:
    def flow(self, flow_type: str, flow_id: UUID) -> None:
        pass

    def phase(self, phase: str, outcome: PhaseOutcome) -> None:
        pass


class NoObserver:
    """Satisfies ``OperationObserver``; every call does nothing."""

    @contextmanager
    def operation(self, operation: str, tenant: Tenant, flow_id: UUID | None) -> Iterator[_Unobserved]:
        yield _Unobserved()

    @contextmanager
    def span(self, name: str, **attributes: str) -> Iterator[None]:
        yield

    def trace_context(self) -> dict[str, str]:
        return {}

    @contextmanager
    def continued(self, trace: Mapping[str, str]) -> Iterator[None]:
        yield


NO_OBSERVER = NoObserver()
