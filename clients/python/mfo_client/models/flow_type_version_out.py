from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.flow_type_version_out_flows_by_status_type_0 import FlowTypeVersionOutFlowsByStatusType0





T = TypeVar("T", bound="FlowTypeVersionOut")



@_attrs_define
class FlowTypeVersionOut:
    """ 
        Attributes:
            flows (int | None):
            flows_by_status (FlowTypeVersionOutFlowsByStatusType0 | None):
            input_phases (list[str]):
            migrates_from (list[int]):
            phases (list[str]):
            version (int):
     """

    flows: int | None
    flows_by_status: FlowTypeVersionOutFlowsByStatusType0 | None
    input_phases: list[str]
    migrates_from: list[int]
    phases: list[str]
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.flow_type_version_out_flows_by_status_type_0 import FlowTypeVersionOutFlowsByStatusType0 # noqa: PLC0415
        flows: int | None
        flows = self.flows

        flows_by_status: dict[str, Any] | None
        if isinstance(self.flows_by_status, FlowTypeVersionOutFlowsByStatusType0):
            flows_by_status = self.flows_by_status.to_dict()
        else:
            flows_by_status = self.flows_by_status

        input_phases = self.input_phases



        migrates_from = self.migrates_from



        phases = self.phases



        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "flows": flows,
            "flows_by_status": flows_by_status,
            "input_phases": input_phases,
            "migrates_from": migrates_from,
            "phases": phases,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.flow_type_version_out_flows_by_status_type_0 import FlowTypeVersionOutFlowsByStatusType0 # noqa: PLC0415
        d = dict(src_dict)
        def _parse_flows(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        flows = _parse_flows(d.pop("flows"))


        def _parse_flows_by_status(data: object) -> FlowTypeVersionOutFlowsByStatusType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                flows_by_status_type_0 = FlowTypeVersionOutFlowsByStatusType0.from_dict(data)



                return flows_by_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FlowTypeVersionOutFlowsByStatusType0 | None, data)

        flows_by_status = _parse_flows_by_status(d.pop("flows_by_status"))


        input_phases = cast(list[str], d.pop("input_phases"))


        migrates_from = cast(list[int], d.pop("migrates_from"))


        phases = cast(list[str], d.pop("phases"))


        version = d.pop("version")

        flow_type_version_out = cls(
            flows=flows,
            flows_by_status=flows_by_status,
            input_phases=input_phases,
            migrates_from=migrates_from,
            phases=phases,
            version=version,
        )


        flow_type_version_out.additional_properties = d
        return flow_type_version_out

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
