"""Load every flow type registered under the ``mfo.flow_types`` entry point group.

Each entry point names a ``FlowTypeDefinition`` or a callable returning one. A package
outside this repository adds a flow type by declaring such an entry point; no core file
changes. A duplicate name or a malformed definition stops start-up with a clear message.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from application.flow_type_registry import FlowTypeRegistry
from domain.errors import FlowTypeRegistrationError
from domain.flow_types import FlowTypeDefinition


def definitions_from(entry_point: EntryPoint) -> list[FlowTypeDefinition]:
    """The versions of one flow type an entry point names: a ``FlowTypeDefinition``, a list or tuple of them (the
    versions kept while flows still run under them), or a callable returning either."""
    where = f"entry point '{entry_point.name} = {entry_point.value}'"
    try:
        loaded = entry_point.load()
    except Exception as error:  # an import error in a plugin must name the plugin
        raise FlowTypeRegistrationError(f"{where} could not be loaded: {error}") from error
    given = loaded() if callable(loaded) and not isinstance(loaded, FlowTypeDefinition) else loaded
    definitions = list(given) if isinstance(given, (list, tuple)) else [given]
    for definition in definitions:
        if not isinstance(definition, FlowTypeDefinition):
            raise FlowTypeRegistrationError(f"{where} gave {type(definition).__name__}, not a FlowTypeDefinition")
        if definition.name != entry_point.name:
            raise FlowTypeRegistrationError(f"{where} defines a flow type named '{definition.name}'")
    if not definitions:
        raise FlowTypeRegistrationError(f"{where} gave no FlowTypeDefinition")
    return definitions


def load_flow_type_registry(
    group: str = "mfo.flow_types", extra: tuple[FlowTypeDefinition, ...] = ()
) -> FlowTypeRegistry:
    registry = FlowTypeRegistry()
    for entry_point in sorted(entry_points(group=group), key=lambda ep: ep.name):
        for definition in definitions_from(entry_point):
            registry.register(definition, source=f"entry point {entry_point.value}")
    for definition in extra:
        registry.register(definition)
    if not registry.names():
        raise FlowTypeRegistrationError(f"no flow type is registered under the entry point group '{group}'")
    return registry
