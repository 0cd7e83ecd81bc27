from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.flow_status import FlowStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.child_status_out_details import ChildStatusOutDetails
  from ..models.child_status_out_mirrors import ChildStatusOutMirrors





T = TypeVar("T", bound="ChildStatusOut")



@_attrs_define
class ChildStatusOut:
    """ 
        Attributes:
            details (ChildStatusOutDetails):
            master_version (int):
            mirrors (ChildStatusOutMirrors):
            progress_percent (int):
            projected_status (FlowStatus | None):
            status (str):
     """

    details: ChildStatusOutDetails
    master_version: int
    mirrors: ChildStatusOutMirrors
    progress_percent: int
    projected_status: FlowStatus | None
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.child_status_out_details import ChildStatusOutDetails # noqa: PLC0415
        from ..models.child_status_out_mirrors import ChildStatusOutMirrors # noqa: PLC0415
        details = self.details.to_dict()

        master_version = self.master_version

        mirrors = self.mirrors.to_dict()

        progress_percent = self.progress_percent

        projected_status: None | str
        if isinstance(self.projected_status, FlowStatus):
            projected_status = self.projected_status.value
        else:
            projected_status = self.projected_status

        status = self.status


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "details": details,
            "master_version": master_version,
            "mirrors": mirrors,
            "progress_percent": progress_percent,
            "projected_status": projected_status,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.child_status_out_details import ChildStatusOutDetails # noqa: PLC0415
        from ..models.child_status_out_mirrors import ChildStatusOutMirrors # noqa: PLC0415
        d = dict(src_dict)
        details = ChildStatusOutDetails.from_dict(d.pop("details"))




        master_version = d.pop("master_version")

        mirrors = ChildStatusOutMirrors.from_dict(d.pop("mirrors"))




        progress_percent = d.pop("progress_percent")

        def _parse_projected_status(data: object) -> FlowStatus | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                projected_status_type_0 = FlowStatus(data)



                return projected_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FlowStatus | None, data)

        projected_status = _parse_projected_status(d.pop("projected_status"))


        status = d.pop("status")

        child_status_out = cls(
            details=details,
            master_version=master_version,
            mirrors=mirrors,
            progress_percent=progress_percent,
            projected_status=projected_status,
            status=status,
        )


        child_status_out.additional_properties = d
        return child_status_out

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
