from __future__ import annotations

import dataclasses

import pytest

from application.flow_type_registry import FlowTypeRegistry
from domain.errors import FlowTypeRegistrationError, UnknownFlowType
from tests.fakes import FakeFlowType, FakeUnitOfWork, fake_flow_type


def test_a_duplicate_name_is_refused() -> None:
    registry = FlowTypeRegistry([fake_flow_type()])
    with pytest.raises(FlowTypeRegistrationError, match=r"'fake'.*already registered"):
        registry.register(fake_flow_type())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Bad Name"}, "name must be lower-case"),
        ({"phases": ()}, "non-empty tuple of phases"),
        ({"phases": ["a", "b"]}, "non-empty tuple of phases"),
        ({"phases": ("a", "a")}, "unique"),
        ({"phases": ("a", "B")}, "every phase name"),
        ({"input_phases": ("zzz",)}, "input phases"),
        ({"factory": "not callable"}, "factory is not callable"),
    ],
)
def test_a_malformed_definition_is_refused(change: dict, message: str) -> None:
    with pytest.raises(FlowTypeRegistrationError, match=message):
        FlowTypeRegistry([dataclasses.replace(fake_flow_type(), **change)])


def test_something_that_is_not_a_definition_is_refused() -> None:
    with pytest.raises(FlowTypeRegistrationError, match="must be a FlowTypeDefinition"):
        FlowTypeRegistry().register(object())  # type: ignore[arg-type]


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
    with pytest.raises(UnknownFlowType):
        registry.get("other")
