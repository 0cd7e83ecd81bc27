"""The flow-type registry: every flow type the orchestrator can reach, by name, and how to build its adapter.

A definition is checked once, when it is registered; building its adapter on a unit of work is then a plain call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from application.direct_adapter import DirectFlowTypeAdapter
from domain.contract import ExecutionContract, PhaseMapping
from domain.errors import FlowTypeRegistrationError, UnknownFlowType, UnknownFlowTypeVersion
from domain.flow import FlowSummary
from domain.flow_types import RESERVED_TABLE_NAMES, SHARED_CHILD_COLUMNS, FlowTypeDefinition
from domain.ports import FlowTypeAdapter, UnitOfWork

AdapterFactory = Callable[[UnitOfWork], FlowTypeAdapter]
"""Builds a type's adapter on one unit of work (one per request)."""

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def direct(definition: FlowTypeDefinition) -> AdapterFactory:
    """The adapter factory of a type whose phases run as plain calls of its handlers."""
    return lambda uow: DirectFlowTypeAdapter(definition, uow)


BridgeFactory = Callable[[FlowTypeDefinition, AdapterFactory], AdapterFactory]
"""Wraps a type's own adapter factory in the CrewAI bridge (entrypoints/container.py composes it)."""


@dataclass(frozen=True)
class RegisteredFlowType:
    """One version of a flow type: its definition, the adapter new flows of it run on (``bridged``: that adapter
    runs their phases through the CrewAI bridge) and the type's own adapter (``direct``), for flows recorded without
    the bridge."""

    definition: FlowTypeDefinition
    adapter: AdapterFactory
    bridged: bool = False
    direct: AdapterFactory | None = None


class FlowTypeRegistry:
    """Every registered version of every flow type. New flows get the newest version of their type; a flow that
    exists runs on the version and the engine its contract recorded (:meth:`adapter_of`)."""

    def __init__(self, definitions: Iterable[FlowTypeDefinition] = ()) -> None:
        self._types: dict[str, dict[int, RegisteredFlowType]] = {}
        self._bridge: BridgeFactory | None = None
        self._bridged: dict[tuple[str, int], AdapterFactory] = {}
        for definition in definitions:
            self.register(definition)

    def register(
        self,
        definition: FlowTypeDefinition,
        *,
        source: str = "",
        adapter: AdapterFactory | None = None,
        bridged: bool = False,
    ) -> None:
        """Add a flow type, or another version of one; its adapter is ``adapter`` (by default :func:`direct`;
        ``bridged``: it is the CrewAI bridge). Refuses a malformed definition, a version already registered, or
        another type's child table, naming ``source``."""
        where = f" (from {source})" if source else ""
        if not isinstance(definition, FlowTypeDefinition):
            raise FlowTypeRegistrationError(
                f"flow type registration{where} must be a FlowTypeDefinition, got {type(definition).__name__}"
            )
        problem = malformation(definition)
        if problem:
            raise FlowTypeRegistrationError(f"flow type '{definition.name}'{where} is malformed: {problem}")
        versions = self._types.get(definition.name, {})
        if definition.version in versions:
            raise FlowTypeRegistrationError(
                f"flow type '{definition.name}' version {definition.version}{where} is already registered"
            )
        table = definition.child_table.name
        owner = next(
            (
                name
                for name, registered in self._types.items()
                if name != definition.name and _newest(registered).definition.child_table.name == table
            ),
            None,
        )
        if owner is not None:
            raise FlowTypeRegistrationError(
                f"flow type '{definition.name}'{where} declares the child table '{table}' of flow type '{owner}'"
            )
        if versions and _newest(versions).definition.child_table.name != table:
            raise FlowTypeRegistrationError(
                f"flow type '{definition.name}' version {definition.version}{where} declares the child table "
                f"'{table}', but its other versions keep theirs in '{_newest(versions).definition.child_table.name}'"
            )
        own = direct(definition)
        registered = RegisteredFlowType(definition, adapter or own, bridged and adapter is not None, own)
        self._types[definition.name] = {**versions, definition.version: registered}

    def with_adapters(
        self, wrap: Callable[[FlowTypeDefinition, AdapterFactory], AdapterFactory | None]
    ) -> FlowTypeRegistry:
        """The same types, each adapter factory of new flows replaced by ``wrap(definition, factory)`` (None: kept
        as it is). Whether that adapter runs through the CrewAI bridge stays as registered (:meth:`with_bridge`
        wraps them in the bridge)."""
        return self._rewrapped(wrap, bridges=lambda definition, wrapped: False)

    def with_bridge(self, bridge: BridgeFactory, bridges_new: Callable[[str], bool]) -> FlowTypeRegistry:
        """The same types; new flows of those ``bridges_new`` names run through the CrewAI bridge (``bridge``
        wraps a type's own adapter factory in it), and a flow recorded with the bridge runs through it whatever
        ``bridges_new`` says (its bridge built when first needed)."""
        registry = self._rewrapped(
            lambda d, own: bridge(d, own) if bridges_new(d.name) else None,
            bridges=lambda definition, wrapped: wrapped,
        )
        registry._bridge = bridge
        return registry

    def _rewrapped(
        self,
        wrap: Callable[[FlowTypeDefinition, AdapterFactory], AdapterFactory | None],
        bridges: Callable[[FlowTypeDefinition, bool], bool],
    ) -> FlowTypeRegistry:
        registry = FlowTypeRegistry()
        registry._bridge = self._bridge
        for name, versions in self._types.items():  # checked when first registered: not again
            registry._types[name] = {}
            for version, registered in versions.items():
                wrapped = wrap(registered.definition, registered.adapter)
                registry._types[name][version] = RegisteredFlowType(
                    registered.definition,
                    wrapped or registered.adapter,
                    registered.bridged or bridges(registered.definition, wrapped is not None),
                    registered.direct,
                )
        return registry

    def names(self) -> list[str]:
        return sorted(self._types)

    def definitions(self) -> list[FlowTypeDefinition]:
        """The newest version of each type, by name."""
        return [_newest(self._types[name]).definition for name in self.names()]

    def versions(self, name: str) -> list[FlowTypeDefinition]:
        """Every registered version of ``name``, oldest first."""
        versions = self._versions(name)
        return [versions[v].definition for v in sorted(versions)]

    def get(self, name: str, version: int | None = None) -> FlowTypeDefinition:
        """The type's ``version`` (by default its newest: the one new flows get)."""
        return self._registered(name, version).definition

    def is_registered(self, name: str, version: int) -> bool:
        return version in self._types.get(name, {})

    def new_contract(self, name: str) -> ExecutionContract:
        """The execution contract a new flow of ``name`` records: its newest version, and whether new flows of it
        run through the CrewAI bridge."""
        registered = self._registered(name, None)
        return registered.definition.contract(bridged=registered.bridged)

    def adapter_for(self, name: str, uow: UnitOfWork) -> FlowTypeAdapter:
        """The adapter new flows of ``name`` run on, built on ``uow``: every write it makes is in that unit of
        work's transaction."""
        return self._registered(name, None).adapter(uow)

    def adapter_of(self, flow: FlowSummary, uow: UnitOfWork) -> FlowTypeAdapter:
        """The adapter ``flow`` runs on, built on ``uow``: its recorded version's, with or without the CrewAI
        bridge as its contract recorded (never as new flows would get it)."""
        contract = flow.contract
        registered = self._registered(flow.flow_type, contract.version)
        if contract.bridged == registered.bridged:
            return registered.adapter(uow)
        own = registered.direct or direct(registered.definition)
        if not contract.bridged:
            return own(uow)
        if self._bridge is None:  # a registry composed without the bridge (in tests): its one adapter
            return registered.adapter(uow)
        key = (flow.flow_type, contract.version)
        if key not in self._bridged:
            self._bridged[key] = self._bridge(registered.definition, own)
        return self._bridged[key](uow)

    def _versions(self, name: str) -> dict[int, RegisteredFlowType]:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownFlowType(name, self.names()) from None

    def _registered(self, name: str, version: int | None) -> RegisteredFlowType:
        versions = self._versions(name)
        if version is None:
            return _newest(versions)
        try:
            return versions[version]
        except KeyError:
            raise UnknownFlowTypeVersion(name, version, list(versions)) from None


def _newest(versions: dict[int, RegisteredFlowType]) -> RegisteredFlowType:
    return versions[max(versions)]


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
    version = definition.version
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return "its version must be a whole number from 1"
    for earlier, mapping in definition.migrations.items():
        if not isinstance(earlier, int) or not 1 <= earlier < version or not isinstance(mapping, PhaseMapping):
            return "its migrations must map earlier versions (whole numbers below its own) to a PhaseMapping"
        kept = set(mapping.dropped) & set(phases)
        if kept:
            return f"its migration from version {earlier} drops phases it still has: {sorted(kept)}"
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
