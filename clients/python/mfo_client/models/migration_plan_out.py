from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="MigrationPlanOut")



@_attrs_define
class MigrationPlanOut:
    """ 
        Attributes:
            added (list[str]):
            dropped (list[str]):
            from_version (int):
            kept (list[str]):
            to_version (int):
     """

    added: list[str]
    dropped: list[str]
    from_version: int
    kept: list[str]
    to_version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        added = self.added



        dropped = self.dropped



        from_version = self.from_version

        kept = self.kept



        to_version = self.to_version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "added": added,
            "dropped": dropped,
            "from_version": from_version,
            "kept": kept,
            "to_version": to_version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        added = cast(list[str], d.pop("added"))


        dropped = cast(list[str], d.pop("dropped"))


        from_version = d.pop("from_version")

        kept = cast(list[str], d.pop("kept"))


        to_version = d.pop("to_version")

        migration_plan_out = cls(
            added=added,
            dropped=dropped,
            from_version=from_version,
            kept=kept,
            to_version=to_version,
        )


        migration_plan_out.additional_properties = d
        return migration_plan_out

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
