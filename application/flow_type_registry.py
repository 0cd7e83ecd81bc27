"""The flow-type registry: every flow type the orchestrator can reach, by name."""

from __future__ import annotations

import re
from collections.abc import Iterable

from domain.errors import FlowTypeRegistrationError, UnknownFlowType
from domain.flow_types import FlowTypeDefinition
from domain.ports import FlowTypeAdapter, UnitOfWork

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class FlowTypeRegistry:
    def __init__(self, definitions: Iterable[FlowTypeDefinition] = ()) -> None:
        self._definitions: dict[str, FlowTypeDefinition] = {}
        for definition in definitions:
            self.register(definition)

    def register(self, definition: FlowTypeDefinition, *, source: str = "") -> None:
        where = f" (from {source})" if source else ""
        if not isinstance(definition, FlowTypeDefinition):
            raise FlowTypeRegistrationError(
                f"flow type registration{where} must be a FlowTypeDefinition, got {type(definition).__name__}"
            )
        problem = _malformation(definition)
        if problem:
            raise FlowTypeRegistrationError(f"flow type '{definition.name}'{where} is malformed: {problem}")
        if definition.name in self._definitions:
            raise FlowTypeRegistrationError(f"flow type '{definition.name}'{where} is already registered")
        self._definitions[definition.name] = definition

    def names(self) -> list[str]:
        return sorted(self._definitions)

    def definitions(self) -> list[FlowTypeDefinition]:
        return [self._definitions[name] for name in self.names()]

    def get(self, name: str) -> FlowTypeDefinition:
        try:
            return self._definitions[name]
        except KeyError:
            raise UnknownFlowType(name, self.names()) from None

    def adapter_for(self, name: str, uow: UnitOfWork) -> FlowTypeAdapter:
        """Build the type's adapter on ``uow`` and check it is what it was registered as."""
        definition = self.get(name)
        adapter = definition.factory(uow)
        if not isinstance(adapter, FlowTypeAdapter):
            raise FlowTypeRegistrationError(f"flow type '{name}': its factory built {adapter!r}, not a FlowTypeAdapter")
        if adapter.name != name or tuple(adapter.phases) != definition.phases:
            raise FlowTypeRegistrationError(
                f"flow type '{name}': its adapter calls itself '{adapter.name}' with phases {list(adapter.phases)}, "
                f"but was registered with phases {list(definition.phases)}"
            )
        return adapter


def _malformation(definition: FlowTypeDefinition) -> str | None:
    if not isinstance(definition.name, str) or not _NAME.match(definition.name):
        return "its name must be lower-case letters, digits and underscores, starting with a letter"
    phases = definition.phases
    if not isinstance(phases, tuple) or not phases:
        return "it must have a non-empty tuple of phases"
    if not all(isinstance(p, str) and _NAME.match(p) for p in phases):
        return "every phase name must be lower-case letters, digits and underscores"
    if len(set(phases)) != len(phases):
        return "its phase names must be unique"
    if not set(definition.input_phases) <= set(phases):
        return "its input phases must be among its phases"
    if not callable(definition.factory):
        return "its factory is not callable"
    return None
