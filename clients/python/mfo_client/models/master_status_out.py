from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.flow_status import FlowStatus
from typing import cast






T = TypeVar("T", bound="MasterStatusOut")



@_attrs_define
class MasterStatusOut:
    """ 
        Attributes:
            current_phase (None | str):
            error (None | str):
            progress_percent (int):
            status (FlowStatus):
            version (int):
     """

    current_phase: None | str
    error: None | str
    progress_percent: int
    status: FlowStatus
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        current_phase: None | str
        current_phase = self.current_phase

        error: None | str
        error = self.error

        progress_percent = self.progress_percent

        status = self.status.value

        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "current_phase": current_phase,
            "error": error,
            "progress_percent": progress_percent,
            "status": status,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_current_phase(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        current_phase = _parse_current_phase(d.pop("current_phase"))


        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))


        progress_percent = d.pop("progress_percent")

        status = FlowStatus(d.pop("status"))




        version = d.pop("version")

        master_status_out = cls(
            current_phase=current_phase,
            error=error,
            progress_percent=progress_percent,
            status=status,
            version=version,
        )


        master_status_out.additional_properties = d
        return master_status_out

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
