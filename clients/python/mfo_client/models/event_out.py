from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.flow_status import FlowStatus
from ..models.operation import Operation
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.event_out_data import EventOutData





T = TypeVar("T", bound="EventOut")



@_attrs_define
class EventOut:
    """ 
        Attributes:
            actor (str):
            data (EventOutData):
            from_status (FlowStatus | None):
            occurred_at (datetime.datetime):
            operation (Operation):
            to_status (FlowStatus):
            version (int):
     """

    actor: str
    data: EventOutData
    from_status: FlowStatus | None
    occurred_at: datetime.datetime
    operation: Operation
    to_status: FlowStatus
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.event_out_data import EventOutData # noqa: PLC0415
        actor = self.actor

        data = self.data.to_dict()

        from_status: None | str
        if isinstance(self.from_status, FlowStatus):
            from_status = self.from_status.value
        else:
            from_status = self.from_status

        occurred_at = self.occurred_at.isoformat()

        operation = self.operation.value

        to_status = self.to_status.value

        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "actor": actor,
            "data": data,
            "from_status": from_status,
            "occurred_at": occurred_at,
            "operation": operation,
            "to_status": to_status,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_out_data import EventOutData # noqa: PLC0415
        d = dict(src_dict)
        actor = d.pop("actor")

        data = EventOutData.from_dict(d.pop("data"))




        def _parse_from_status(data: object) -> FlowStatus | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                from_status_type_0 = FlowStatus(data)



                return from_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FlowStatus | None, data)

        from_status = _parse_from_status(d.pop("from_status"))


        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))




        operation = Operation(d.pop("operation"))




        to_status = FlowStatus(d.pop("to_status"))




        version = d.pop("version")

        event_out = cls(
            actor=actor,
            data=data,
            from_status=from_status,
            occurred_at=occurred_at,
            operation=operation,
            to_status=to_status,
            version=version,
        )


        event_out.additional_properties = d
        return event_out

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
