from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="LegacyUsageItemOut")



@_attrs_define
class LegacyUsageItemOut:
    """ 
        Attributes:
            count (int):
            family (str):
            method (str):
            route (str):
     """

    count: int
    family: str
    method: str
    route: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        count = self.count

        family = self.family

        method = self.method

        route = self.route


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "count": count,
            "family": family,
            "method": method,
            "route": route,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        count = d.pop("count")

        family = d.pop("family")

        method = d.pop("method")

        route = d.pop("route")

        legacy_usage_item_out = cls(
            count=count,
            family=family,
            method=method,
            route=route,
        )


        legacy_usage_item_out.additional_properties = d
        return legacy_usage_item_out

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
