from __future__ import annotations

import dataclasses

import pytest

from application.flow_type_registry import FlowTypeRegistry
from domain.errors import FlowTypeRegistrationError, UnknownFlowType
from tests.fakes import FakeFlowType, FakeUnitOfWork, fake_flow_type


def test_a_duplicate_name_is_refused() -> None:
    registry = FlowTypeRegistry([fake_flow_type()])
    with pytest.raises(FlowTypeRegistrationError) as raised:
        registry.register(fake_flow_type())
    assert str(raised.value) == "flow type 'fake' is already registered"


def test_a_refusal_names_where_the_registration_came_from() -> None:
    registry = FlowTypeRegistry([fake_flow_type()])
    with pytest.raises(FlowTypeRegistrationError) as raised:
        registry.register(fake_flow_type(), source="plugin example")
    assert str(raised.value) == "flow type 'fake' (from plugin example) is already registered"
    with pytest.raises(FlowTypeRegistrationError) as raised:
        registry.register("fake", source="plugin example")  # type: ignore[arg-type]
    assert str(raised.value) == "flow type registration (from plugin example) must be a FlowTypeDefinition, got str"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Bad Name"}, "its name must be lower-case letters, digits and underscores, starting with a letter"),
        ({"phases": ()}, "it must have a non-empty tuple of phases"),
        ({"phases": ["a", "b"]}, "it must have a non-empty tuple of phases"),
        ({"phases": ("a", "a")}, "its phase names must be unique"),
        ({"phases": ("a", "B")}, "every phase name must be lower-case letters, digits and underscores"),
        ({"input_phases": ("zzz",)}, "its input phases must be among its phases"),
        ({"factory": "not callable"}, "its factory is not callable"),
    ],
)
def test_a_malformed_definition_is_refused(change: dict, message: str) -> None:
    definition = dataclasses.replace(fake_flow_type(), **change)
    with pytest.raises(FlowTypeRegistrationError) as raised:
        FlowTypeRegistry([definition])
    assert str(raised.value) == f"flow type '{definition.name}' is malformed: {message}"


def test_every_phase_may_take_input() -> None:
    definition = dataclasses.replace(fake_flow_type(), input_phases=("collect", "review", "publish"))
    assert FlowTypeRegistry([definition]).get("fake") is definition


def test_something_that_is_not_a_definition_is_refused() -> None:
    with pytest.raises(FlowTypeRegistrationError) as raised:
        FlowTypeRegistry().register(object())  # type: ignore[arg-type]
    assert str(raised.value) == "flow type registration must be a FlowTypeDefinition, got object"


def test_an_adapter_unlike_its_registration_is_refused() -> None:
    registry = FlowTypeRegistry([dataclasses.replace(fake_flow_type(), phases=("collect", "review"))])
    with pytest.raises(FlowTypeRegistrationError, match="registered with phases"):
        registry.adapter_for("fake", FakeUnitOfWork())  # type: ignore[arg-type]
    broken = FlowTypeRegistry([dataclasses.replace(fake_flow_type(), factory=lambda uow: object())])
    with pytest.raises(FlowTypeRegistrationError, match="not a FlowTypeAdapter"):
        broken.adapter_for("fake", FakeUnitOfWork())  # type: ignore[arg-type]


def test_lookup() -> None:
    registry = FlowTypeRegistry([fake_flow_type()])
    assert registry.names() == ["fake"]
    assert isinstance(registry.adapter_for("fake", FakeUnitOfWork()), FakeFlowType)  # type: ignore[arg-type]
    with pytest.raises(UnknownFlowType) as raised:
        registry.get("other")
    assert (raised.value.flow_type, raised.value.known) == ("other", ["fake"])
