from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.flow_status import FlowStatus
from ..models.operation import Operation
from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="FlowSummaryOut")



@_attrs_define
class FlowSummaryOut:
    """ 
        Attributes:
            allowed_operations (list[Operation]):
            created_at (datetime.datetime):
            current_phase (None | str):
            flow_id (UUID):
            flow_type (str):
            name (str):
            progress_percent (int):
            status (FlowStatus):
            updated_at (datetime.datetime):
            version (int):
     """

    allowed_operations: list[Operation]
    created_at: datetime.datetime
    current_phase: None | str
    flow_id: UUID
    flow_type: str
    name: str
    progress_percent: int
    status: FlowStatus
    updated_at: datetime.datetime
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        allowed_operations = []
        for allowed_operations_item_data in self.allowed_operations:
            allowed_operations_item = allowed_operations_item_data.value
            allowed_operations.append(allowed_operations_item)



        created_at = self.created_at.isoformat()

        current_phase: None | str
        current_phase = self.current_phase

        flow_id = str(self.flow_id)

        flow_type = self.flow_type

        name = self.name

        progress_percent = self.progress_percent

        status = self.status.value

        updated_at = self.updated_at.isoformat()

        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "allowed_operations": allowed_operations,
            "created_at": created_at,
            "current_phase": current_phase,
            "flow_id": flow_id,
            "flow_type": flow_type,
            "name": name,
            "progress_percent": progress_percent,
            "status": status,
            "updated_at": updated_at,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        allowed_operations = []
        _allowed_operations = d.pop("allowed_operations")
        for allowed_operations_item_data in (_allowed_operations):
            allowed_operations_item = Operation(allowed_operations_item_data)



            allowed_operations.append(allowed_operations_item)


        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_current_phase(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        current_phase = _parse_current_phase(d.pop("current_phase"))


        flow_id = UUID(d.pop("flow_id"))




        flow_type = d.pop("flow_type")

        name = d.pop("name")

        progress_percent = d.pop("progress_percent")

        status = FlowStatus(d.pop("status"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        version = d.pop("version")

        flow_summary_out = cls(
            allowed_operations=allowed_operations,
            created_at=created_at,
            current_phase=current_phase,
            flow_id=flow_id,
            flow_type=flow_type,
            name=name,
            progress_percent=progress_percent,
            status=status,
            updated_at=updated_at,
            version=version,
        )


        flow_summary_out.additional_properties = d
        return flow_summary_out

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
