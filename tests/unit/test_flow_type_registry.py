from __future__ import annotations

import dataclasses

import pytest

from application.direct_adapter import DirectFlowTypeAdapter
from application.flow_type_registry import FlowTypeRegistry
from domain.errors import FlowTypeRegistrationError, UnknownFlowType
from domain.flow_types import ChildColumn, ChildTable, ColumnKind
from tests.fakes import FakeUnitOfWork, fake_flow_type


def test_a_duplicate_name_is_refused() -> None:
    registry = FlowTypeRegistry([fake_flow_type()])
    with pytest.raises(FlowTypeRegistrationError, match=r"'fake'.*already registered"):
        registry.register(fake_flow_type())


def _handlers(*phases: str) -> dict:
    handler = fake_flow_type().run["collect"]
    return {phase: handler for phase in phases}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Bad Name"}, "name must be lower-case"),
        ({"phases": ()}, "non-empty tuple of phases"),
        ({"phases": ["a", "b"]}, "non-empty tuple of phases"),
        ({"phases": ("a", "a")}, "unique"),
        ({"phases": ("a", "B")}, "every phase name"),
        ({"accept": {"zzz": fake_flow_type().accept["review"]}}, "input phases"),
        ({"run": {**_handlers("collect", "review"), "publish": "not callable"}}, "must be callable"),
        ({"run": _handlers("collect", "review")}, "one run handler per phase"),
        ({"validate_configuration": None}, "validate_configuration is not callable"),
        ({"child_table": ChildTable("Bad Table")}, "child table needs a name"),
        ({"child_table": ChildTable("t", (ChildColumn("status", ColumnKind.TEXT),))}, "shared columns"),
        ({"child_table": ChildTable("t", (ChildColumn("a", ColumnKind.TEXT),) * 2)}, "must be unique"),
    ],
)
def test_a_malformed_definition_is_refused_when_it_is_registered(change: dict, message: str) -> None:
    with pytest.raises(FlowTypeRegistrationError, match=message):
        FlowTypeRegistry([dataclasses.replace(fake_flow_type(), **change)])


def test_something_that_is_not_a_definition_is_refused() -> None:
    with pytest.raises(FlowTypeRegistrationError, match="must be a FlowTypeDefinition"):
        FlowTypeRegistry().register(object())  # type: ignore[arg-type]


def test_lookup() -> None:
    registry = FlowTypeRegistry([fake_flow_type()])
    assert registry.names() == ["fake"]
    uow = FakeUnitOfWork()
    adapter = registry.adapter_for("fake", uow)  # type: ignore[arg-type]
    assert isinstance(adapter, DirectFlowTypeAdapter) and adapter.unit_of_work is uow
    with pytest.raises(UnknownFlowType):
        registry.get("other")
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


@pytest.mark.parametrize("table", ["flows", "api_keys", "idempotency_keys", "pgqueuer_log"])
def test_a_child_table_may_not_take_the_name_of_one_of_mfos_own(table: str) -> None:
    with pytest.raises(FlowTypeRegistrationError, match="a table of MFO's own"):
        FlowTypeRegistry([dataclasses.replace(fake_flow_type(), child_table=ChildTable(table))])


def test_two_flow_types_may_not_share_a_child_table() -> None:
    taken = fake_flow_type()
    other = dataclasses.replace(fake_flow_type(name="other"), child_table=taken.child_table)
    with pytest.raises(FlowTypeRegistrationError, match=r"'other'.*child table 'fake_flows' of flow type 'fake'"):
        FlowTypeRegistry([taken, other])
