from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.legacy_flow_out import LegacyFlowOut





T = TypeVar("T", bound="LegacyActiveFlowsOut")



@_attrs_define
class LegacyActiveFlowsOut:
    """ 
        Attributes:
            flows (list[LegacyFlowOut]):
            next_cursor (None | str):
            success (bool):
     """

    flows: list[LegacyFlowOut]
    next_cursor: None | str
    success: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.legacy_flow_out import LegacyFlowOut # noqa: PLC0415
        flows = []
        for flows_item_data in self.flows:
            flows_item = flows_item_data.to_dict()
            flows.append(flows_item)



        next_cursor: None | str
        next_cursor = self.next_cursor

        success = self.success


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "flows": flows,
            "next_cursor": next_cursor,
            "success": success,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.legacy_flow_out import LegacyFlowOut # noqa: PLC0415
        d = dict(src_dict)
        flows = []
        _flows = d.pop("flows")
        for flows_item_data in (_flows):
            flows_item = LegacyFlowOut.from_dict(flows_item_data)



            flows.append(flows_item)


        def _parse_next_cursor(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        next_cursor = _parse_next_cursor(d.pop("next_cursor"))


        success = d.pop("success")

        legacy_active_flows_out = cls(
            flows=flows,
            next_cursor=next_cursor,
            success=success,
        )


        legacy_active_flows_out.additional_properties = d
        return legacy_active_flows_out

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
