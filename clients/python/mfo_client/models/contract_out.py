from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="ContractOut")



@_attrs_define
class ContractOut:
    """ 
        Attributes:
            bridged (bool):
            input_phases (list[str]):
            phases (list[str]):
            version (int):
     """

    bridged: bool
    input_phases: list[str]
    phases: list[str]
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        bridged = self.bridged

        input_phases = self.input_phases



        phases = self.phases



        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "bridged": bridged,
            "input_phases": input_phases,
            "phases": phases,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bridged = d.pop("bridged")

        input_phases = cast(list[str], d.pop("input_phases"))


        phases = cast(list[str], d.pop("phases"))


        version = d.pop("version")

        contract_out = cls(
            bridged=bridged,
            input_phases=input_phases,
            phases=phases,
            version=version,
        )


        contract_out.additional_properties = d
        return contract_out

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
