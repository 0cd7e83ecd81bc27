"""How a flow type is registered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.ports import FlowTypeAdapter, UnitOfWork

AdapterFactory = Callable[[UnitOfWork], FlowTypeAdapter]


@dataclass(frozen=True)
class FlowTypeDefinition:
    """A flow type as it is registered: its name, its ordered phases and how to build its adapter.

    ``factory`` receives the request's unit of work, so the adapter it builds writes
    through the same session and transaction as the orchestrator.
    """

    name: str
    phases: tuple[str, ...]
    factory: AdapterFactory
    description: str = ""
    input_phases: tuple[str, ...] = ()
    example_configuration: dict[str, Any] = field(default_factory=dict)
    """A configuration that runs every phase; shown in the API and used by the consistency harness."""
    example_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """For each input phase, a body that completes it."""
