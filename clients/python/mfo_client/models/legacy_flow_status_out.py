from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.flow_status import FlowStatus
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.legacy_flow_status_out_phase_completion import LegacyFlowStatusOutPhaseCompletion





T = TypeVar("T", bound="LegacyFlowStatusOut")



@_attrs_define
class LegacyFlowStatusOut:
    """ 
        Attributes:
            child_status (None | str):
            created_at (datetime.datetime):
            current_phase (None | str):
            error (None | str):
            flow_id (str):
            flow_name (str):
            in_sync (bool):
            phase_completion (LegacyFlowStatusOutPhaseCompletion):
            progress_percentage (float):
            status (FlowStatus):
            success (bool):
            updated_at (datetime.datetime):
            version (int):
     """

    child_status: None | str
    created_at: datetime.datetime
    current_phase: None | str
    error: None | str
    flow_id: str
    flow_name: str
    in_sync: bool
    phase_completion: LegacyFlowStatusOutPhaseCompletion
    progress_percentage: float
    status: FlowStatus
    success: bool
    updated_at: datetime.datetime
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.legacy_flow_status_out_phase_completion import LegacyFlowStatusOutPhaseCompletion # noqa: PLC0415
        child_status: None | str
        child_status = self.child_status

        created_at = self.created_at.isoformat()

        current_phase: None | str
        current_phase = self.current_phase

        error: None | str
        error = self.error

        flow_id = self.flow_id

        flow_name = self.flow_name

        in_sync = self.in_sync

        phase_completion = self.phase_completion.to_dict()

        progress_percentage = self.progress_percentage

        status = self.status.value

        success = self.success

        updated_at = self.updated_at.isoformat()

        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "child_status": child_status,
            "created_at": created_at,
            "current_phase": current_phase,
            "error": error,
            "flow_id": flow_id,
            "flow_name": flow_name,
            "in_sync": in_sync,
            "phase_completion": phase_completion,
            "progress_percentage": progress_percentage,
            "status": status,
            "success": success,
            "updated_at": updated_at,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.legacy_flow_status_out_phase_completion import LegacyFlowStatusOutPhaseCompletion # noqa: PLC0415
        d = dict(src_dict)
        def _parse_child_status(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        child_status = _parse_child_status(d.pop("child_status"))


        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




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


        flow_id = d.pop("flow_id")

        flow_name = d.pop("flow_name")

        in_sync = d.pop("in_sync")

        phase_completion = LegacyFlowStatusOutPhaseCompletion.from_dict(d.pop("phase_completion"))




        progress_percentage = d.pop("progress_percentage")

        status = FlowStatus(d.pop("status"))




        success = d.pop("success")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        version = d.pop("version")

        legacy_flow_status_out = cls(
            child_status=child_status,
            created_at=created_at,
            current_phase=current_phase,
            error=error,
            flow_id=flow_id,
            flow_name=flow_name,
            in_sync=in_sync,
            phase_completion=phase_completion,
            progress_percentage=progress_percentage,
            status=status,
            success=success,
            updated_at=updated_at,
            version=version,
        )


        legacy_flow_status_out.additional_properties = d
        return legacy_flow_status_out

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
