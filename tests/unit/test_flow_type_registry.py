from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from application.direct_adapter import DirectFlowTypeAdapter
from application.flow_type_registry import FlowTypeRegistry
from domain.errors import FlowTypeRegistrationError, UnknownFlowType
from domain.flow_types import ChildColumn, ChildTable, ColumnKind
from tests.fakes import FakeUnitOfWork, fake_flow_type


def test_a_duplicate_name_is_refused() -> None:
    registry = FlowTypeRegistry([fake_flow_type()])
    with pytest.raises(FlowTypeRegistrationError) as raised:
        registry.register(fake_flow_type())
    assert str(raised.value) == "flow type 'fake' version 1 is already registered"


def test_a_refusal_names_where_the_registration_came_from() -> None:
    registry = FlowTypeRegistry([fake_flow_type()])
    with pytest.raises(FlowTypeRegistrationError) as raised:
        registry.register(fake_flow_type(), source="plugin example")
    assert str(raised.value) == "flow type 'fake' version 1 (from plugin example) is already registered"
    with pytest.raises(FlowTypeRegistrationError) as raised:
        registry.register("fake", source="plugin example")  # type: ignore[arg-type]
    assert str(raised.value) == "flow type registration (from plugin example) must be a FlowTypeDefinition, got str"


def _handlers(*phases: str) -> dict:
    handler = fake_flow_type().run["collect"]
    return {phase: handler for phase in phases}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Bad Name"}, "its name must be lower-case letters, digits and underscores, starting with a letter"),
        ({"name": 5}, "its name must be lower-case letters, digits and underscores, starting with a letter"),
        ({"phases": ()}, "it must have a non-empty tuple of phases"),
        ({"phases": ["a", "b"]}, "it must have a non-empty tuple of phases"),
        ({"phases": ("a", "a"), "run": _handlers("a")}, "its phase names must be unique"),
        ({"phases": ("a", "B")}, "every phase name must be lower-case letters, digits and underscores"),
        ({"phases": ("a", 1)}, "every phase name must be lower-case letters, digits and underscores"),
        (
            {"accept": {"zzz": fake_flow_type().accept["review"]}},
            "its input phases (the keys of 'accept') must be among its phases",
        ),
        (
            {"run": {**_handlers("collect", "review"), "publish": "not callable"}},
            "every phase handler must be callable",
        ),
        ({"accept": {"review": "not callable"}}, "every phase handler must be callable"),
        (
            {"run": _handlers("collect", "review")},
            "it must have one run handler per phase (phases ['collect', 'review', 'publish'], "
            "handlers ['collect', 'review'])",
        ),
        (
            {"run": _handlers("collect", "review", "publish", "extra")},
            "it must have one run handler per phase (phases ['collect', 'review', 'publish'], "
            "handlers ['collect', 'extra', 'publish', 'review'])",
        ),
        ({"validate_configuration": None}, "its validate_configuration is not callable"),
        (
            {"child_table": ChildTable("Bad Table")},
            "its child table needs a name of lower-case letters, digits and underscores",
        ),
        (
            {"child_table": object()},
            "its child table needs a name of lower-case letters, digits and underscores",
        ),
        (
            {"child_table": ChildTable(None)},  # type: ignore[arg-type]
            "its child table needs a name of lower-case letters, digits and underscores",
        ),
        (
            {"child_table": ChildTable("t", (ChildColumn("status", ColumnKind.TEXT),))},
            "its child table may not redefine the shared columns ['status']",
        ),
        (
            {"child_table": ChildTable("t", (ChildColumn("a", ColumnKind.TEXT),) * 2)},
            "its child table's column names must be unique lower-case identifiers",
        ),
        (
            {"child_table": ChildTable("t", (ChildColumn("Bad", ColumnKind.TEXT),))},
            "its child table's column names must be unique lower-case identifiers",
        ),
        (
            {"child_table": ChildTable("t", (), "not callable")},  # type: ignore[arg-type]
            "its child table's project is not callable",
        ),
        (
            {"input_schemas": {"analysis": {"type": "object"}}},
            "its input schemas must be of input phases (the keys of 'accept')",
        ),
        (
            {"input_schemas": {"review": {"type": "string"}}},
            "every input schema must be a JSON Schema of an object",
        ),
    ],
)
def test_a_malformed_definition_is_refused_when_it_is_registered(change: dict, message: str) -> None:
    definition = dataclasses.replace(fake_flow_type(), **change)
    with pytest.raises(FlowTypeRegistrationError) as raised:
        FlowTypeRegistry([definition])
    assert str(raised.value) == f"flow type '{definition.name}' is malformed: {message}"


def test_every_phase_may_take_input_and_the_input_phases_follow_the_phases() -> None:
    handler = fake_flow_type().accept["review"]
    definition = dataclasses.replace(fake_flow_type(), accept={"publish": handler, "collect": handler})
    assert FlowTypeRegistry([definition]).get("fake") is definition
    assert definition.input_phases == ("collect", "publish")
    every = dataclasses.replace(fake_flow_type(), accept={"publish": handler, "review": handler, "collect": handler})
    assert FlowTypeRegistry([every]).get("fake") is every
    assert every.input_phases == ("collect", "review", "publish")
    assert fake_flow_type().input_phases == ("review",)


def test_something_that_is_not_a_definition_is_refused() -> None:
    with pytest.raises(FlowTypeRegistrationError) as raised:
        FlowTypeRegistry().register(object())  # type: ignore[arg-type]
    assert str(raised.value) == "flow type registration must be a FlowTypeDefinition, got object"


def test_lookup() -> None:
    registry = FlowTypeRegistry([fake_flow_type()])
    assert registry.names() == ["fake"]
    uow = FakeUnitOfWork()
    adapter = registry.adapter_for("fake", uow)  # type: ignore[arg-type]
    assert isinstance(adapter, DirectFlowTypeAdapter) and adapter.unit_of_work is uow
    with pytest.raises(UnknownFlowType) as raised:
        registry.get("other")
    assert (raised.value.flow_type, raised.value.known) == ("other", ["fake"])
    with pytest.raises(UnknownFlowType):
        registry.adapter_for("other", uow)  # type: ignore[arg-type]


def test_with_adapters_replaces_only_the_factories_it_is_given() -> None:
    registry = FlowTypeRegistry([fake_flow_type(), fake_flow_type(name="other")])
    sentinel = object()
    wrapped = registry.with_adapters(lambda d, direct: (lambda uow: sentinel) if d.name == "other" else None)
    uow = FakeUnitOfWork()
    assert wrapped.adapter_for("other", uow) is sentinel  # type: ignore[arg-type]
    assert isinstance(wrapped.adapter_for("fake", uow), DirectFlowTypeAdapter)  # type: ignore[arg-type]
    assert [d.name for d in wrapped.definitions()] == ["fake", "other"]


def test_with_adapters_gives_each_wrapper_the_factory_it_wraps() -> None:
    registry = FlowTypeRegistry([fake_flow_type()])
    built: list[object] = []

    def wrap(definition: object, factory: Callable[[object], object]) -> Callable[[object], object]:
        def wrapped(uow: object) -> object:
            inner = factory(uow)
            built.append(inner)
            return ("wrapped", inner)

        return wrapped

    uow = FakeUnitOfWork()
    kind, inner = registry.with_adapters(wrap).adapter_for("fake", uow)  # type: ignore[arg-type, misc]
    assert kind == "wrapped" and built == [inner]
    assert isinstance(inner, DirectFlowTypeAdapter) and inner.unit_of_work is uow


@pytest.mark.parametrize("table", ["flows", "api_keys", "idempotency_keys", "pgqueuer_log"])
def test_a_child_table_may_not_take_the_name_of_one_of_mfos_own(table: str) -> None:
    with pytest.raises(FlowTypeRegistrationError) as raised:
        FlowTypeRegistry([dataclasses.replace(fake_flow_type(), child_table=ChildTable(table))])
    assert str(raised.value) == (
        f"flow type 'fake' is malformed: its child table may not be called '{table}', a table of MFO's own"
    )


def test_two_flow_types_may_not_share_a_child_table() -> None:
    taken = fake_flow_type()
    other = dataclasses.replace(fake_flow_type(name="other"), child_table=taken.child_table)
    with pytest.raises(FlowTypeRegistrationError) as raised:
        FlowTypeRegistry([taken, other])
    assert str(raised.value) == "flow type 'other' declares the child table 'fake_flows' of flow type 'fake'"
    registry = FlowTypeRegistry([taken])
    with pytest.raises(FlowTypeRegistrationError) as raised:
        registry.register(other, source="plugin example")
    assert str(raised.value) == (
        "flow type 'other' (from plugin example) declares the child table 'fake_flows' of flow type 'fake'"
    )
    assert registry.names() == ["fake"]
