from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.held_phase_out import HeldPhaseOut
  from ..models.queued_flow_out import QueuedFlowOut





T = TypeVar("T", bound="QueueOut")



@_attrs_define
class QueueOut:
    """ 
        Attributes:
            due_count (int):
            expired_count (int):
            running (list[HeldPhaseOut]):
            running_count (int):
            waiting (list[QueuedFlowOut]):
            waiting_count (int):
     """

    due_count: int
    expired_count: int
    running: list[HeldPhaseOut]
    running_count: int
    waiting: list[QueuedFlowOut]
    waiting_count: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.held_phase_out import HeldPhaseOut # noqa: PLC0415
        from ..models.queued_flow_out import QueuedFlowOut # noqa: PLC0415
        due_count = self.due_count

        expired_count = self.expired_count

        running = []
        for running_item_data in self.running:
            running_item = running_item_data.to_dict()
            running.append(running_item)



        running_count = self.running_count

        waiting = []
        for waiting_item_data in self.waiting:
            waiting_item = waiting_item_data.to_dict()
            waiting.append(waiting_item)



        waiting_count = self.waiting_count


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "due_count": due_count,
            "expired_count": expired_count,
            "running": running,
            "running_count": running_count,
            "waiting": waiting,
            "waiting_count": waiting_count,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.held_phase_out import HeldPhaseOut # noqa: PLC0415
        from ..models.queued_flow_out import QueuedFlowOut # noqa: PLC0415
        d = dict(src_dict)
        due_count = d.pop("due_count")

        expired_count = d.pop("expired_count")

        running = []
        _running = d.pop("running")
        for running_item_data in (_running):
            running_item = HeldPhaseOut.from_dict(running_item_data)



            running.append(running_item)


        running_count = d.pop("running_count")

        waiting = []
        _waiting = d.pop("waiting")
        for waiting_item_data in (_waiting):
            waiting_item = QueuedFlowOut.from_dict(waiting_item_data)



            waiting.append(waiting_item)


        waiting_count = d.pop("waiting_count")

        queue_out = cls(
            due_count=due_count,
            expired_count=expired_count,
            running=running,
            running_count=running_count,
            waiting=waiting,
            waiting_count=waiting_count,
        )


        queue_out.additional_properties = d
        return queue_out

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
