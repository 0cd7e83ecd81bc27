"""The flow-type registry: every flow type the orchestrator can reach, by name, and how to build its adapter.

A definition is checked once, when it is registered; building its adapter on a unit of work is then a plain call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from application.direct_adapter import DirectFlowTypeAdapter
from domain.errors import FlowTypeRegistrationError, UnknownFlowType
from domain.flow_types import RESERVED_TABLE_NAMES, SHARED_CHILD_COLUMNS, FlowTypeDefinition
from domain.ports import FlowTypeAdapter, UnitOfWork

AdapterFactory = Callable[[UnitOfWork], FlowTypeAdapter]
"""Builds a type's adapter on one unit of work (one per request)."""

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def direct(definition: FlowTypeDefinition) -> AdapterFactory:
    """The adapter factory of a type whose phases run as plain calls of its handlers."""
    return lambda uow: DirectFlowTypeAdapter(definition, uow)


@dataclass(frozen=True)
class RegisteredFlowType:
    definition: FlowTypeDefinition
    adapter: AdapterFactory


class FlowTypeRegistry:
    def __init__(self, definitions: Iterable[FlowTypeDefinition] = ()) -> None:
        self._types: dict[str, RegisteredFlowType] = {}
        for definition in definitions:
            self.register(definition)

    def register(
        self, definition: FlowTypeDefinition, *, source: str = "", adapter: AdapterFactory | None = None
    ) -> None:
        """Add a flow type; its adapter is ``adapter`` (by default :func:`direct`). Refuses a malformed definition
        or a name already taken, naming ``source``."""
        where = f" (from {source})" if source else ""
        if not isinstance(definition, FlowTypeDefinition):
            raise FlowTypeRegistrationError(
                f"flow type registration{where} must be a FlowTypeDefinition, got {type(definition).__name__}"
            )
        problem = malformation(definition)
        if problem:
            raise FlowTypeRegistrationError(f"flow type '{definition.name}'{where} is malformed: {problem}")
        if definition.name in self._types:
            raise FlowTypeRegistrationError(f"flow type '{definition.name}'{where} is already registered")
        table = definition.child_table.name
        owner = next((t.definition.name for t in self._types.values() if t.definition.child_table.name == table), None)
        if owner is not None:
            raise FlowTypeRegistrationError(
                f"flow type '{definition.name}'{where} declares the child table '{table}' of flow type '{owner}'"
            )
        self._types[definition.name] = RegisteredFlowType(definition, adapter or direct(definition))

    def with_adapters(
        self, wrap: Callable[[FlowTypeDefinition, AdapterFactory], AdapterFactory | None]
    ) -> FlowTypeRegistry:
        """The same types, each adapter factory replaced by ``wrap(definition, factory)`` (None: kept as it is)."""
        registry = FlowTypeRegistry()
        for name, registered in self._types.items():  # checked when first registered: not again
            wrapped = wrap(registered.definition, registered.adapter)
            registry._types[name] = RegisteredFlowType(registered.definition, wrapped or registered.adapter)
        return registry

    def names(self) -> list[str]:
        return sorted(self._types)

    def definitions(self) -> list[FlowTypeDefinition]:
        return [self._types[name].definition for name in self.names()]

    def get(self, name: str) -> FlowTypeDefinition:
        return self._registered(name).definition

    def adapter_for(self, name: str, uow: UnitOfWork) -> FlowTypeAdapter:
        """The type's adapter, built on ``uow``: every write it makes is in that unit of work's transaction."""
        return self._registered(name).adapter(uow)

    def _registered(self, name: str) -> RegisteredFlowType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownFlowType(name, self.names()) from None


def malformation(definition: FlowTypeDefinition) -> str | None:
    """What is wrong with ``definition``, or None."""
    if not isinstance(definition.name, str) or not _NAME.match(definition.name):
        return "its name must be lower-case letters, digits and underscores, starting with a letter"
    phases = definition.phases
    if not isinstance(phases, tuple) or not phases:
        return "it must have a non-empty tuple of phases"
    if not all(isinstance(p, str) and _NAME.match(p) for p in phases):
        return "every phase name must be lower-case letters, digits and underscores"
    if len(set(phases)) != len(phases):
        return "its phase names must be unique"
    if set(definition.run) != set(phases):
        return f"it must have one run handler per phase (phases {list(phases)}, handlers {sorted(definition.run)})"
    if not set(definition.accept) <= set(phases):
        return "its input phases (the keys of 'accept') must be among its phases"
    if not set(definition.input_schemas) <= set(definition.accept):
        return "its input schemas must be of input phases (the keys of 'accept')"
    if not all(isinstance(s, dict) and s.get("type") == "object" for s in definition.input_schemas.values()):
        return "every input schema must be a JSON Schema of an object"
    if not all(callable(h) for h in [*definition.run.values(), *definition.accept.values()]):
        return "every phase handler must be callable"
    if not callable(definition.validate_configuration):
        return "its validate_configuration is not callable"
    return _child_table_malformation(definition)


def _child_table_malformation(definition: FlowTypeDefinition) -> str | None:
    table = definition.child_table
    if not _NAME.match(getattr(table, "name", "") or ""):
        return "its child table needs a name of lower-case letters, digits and underscores"
    if table.name in RESERVED_TABLE_NAMES or table.name.startswith("pgqueuer"):
        return f"its child table may not be called '{table.name}', a table of MFO's own"
    names = [column.name for column in table.columns]
    if len(set(names)) != len(names) or not all(_NAME.match(n) for n in names):
        return "its child table's column names must be unique lower-case identifiers"
    if set(SHARED_CHILD_COLUMNS) & set(names):
        return f"its child table may not redefine the shared columns {sorted(set(SHARED_CHILD_COLUMNS) & set(names))}"
    if not callable(table.project):
        return "its child table's project is not callable"
    return None
