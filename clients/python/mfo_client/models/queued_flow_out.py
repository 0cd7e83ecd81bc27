from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="QueuedFlowOut")



@_attrs_define
class QueuedFlowOut:
    """ 
        Attributes:
            attempt (int | None):
            due (bool):
            due_at (datetime.datetime):
            flow_id (UUID):
            flow_type (str):
            name (str):
            phase (None | str):
     """

    attempt: int | None
    due: bool
    due_at: datetime.datetime
    flow_id: UUID
    flow_type: str
    name: str
    phase: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        attempt: int | None
        attempt = self.attempt

        due = self.due

        due_at = self.due_at.isoformat()

        flow_id = str(self.flow_id)

        flow_type = self.flow_type

        name = self.name

        phase: None | str
        phase = self.phase


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "attempt": attempt,
            "due": due,
            "due_at": due_at,
            "flow_id": flow_id,
            "flow_type": flow_type,
            "name": name,
            "phase": phase,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_attempt(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        attempt = _parse_attempt(d.pop("attempt"))


        due = d.pop("due")

        due_at = datetime.datetime.fromisoformat(d.pop("due_at"))




        flow_id = UUID(d.pop("flow_id"))




        flow_type = d.pop("flow_type")

        name = d.pop("name")

        def _parse_phase(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        phase = _parse_phase(d.pop("phase"))


        queued_flow_out = cls(
            attempt=attempt,
            due=due,
            due_at=due_at,
            flow_id=flow_id,
            flow_type=flow_type,
            name=name,
            phase=phase,
        )


        queued_flow_out.additional_properties = d
        return queued_flow_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
