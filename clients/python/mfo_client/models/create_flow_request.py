from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.create_flow_request_configuration import CreateFlowRequestConfiguration





T = TypeVar("T", bound="CreateFlowRequest")



@_attrs_define
class CreateFlowRequest:
    """ 
        Attributes:
            flow_type (str):
            name (str):
            configuration (CreateFlowRequestConfiguration | Unset):
     """

    flow_type: str
    name: str
    configuration: CreateFlowRequestConfiguration | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.create_flow_request_configuration import CreateFlowRequestConfiguration # noqa: PLC0415
        flow_type = self.flow_type

        name = self.name

        configuration: dict[str, Any] | Unset = UNSET
        if not isinstance(self.configuration, Unset):
            configuration = self.configuration.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "flow_type": flow_type,
            "name": name,
        })
        if configuration is not UNSET:
            field_dict["configuration"] = configuration

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_flow_request_configuration import CreateFlowRequestConfiguration # noqa: PLC0415
        d = dict(src_dict)
        flow_type = d.pop("flow_type")

        name = d.pop("name")

        _configuration = d.pop("configuration", UNSET)
        configuration: CreateFlowRequestConfiguration | Unset
        if isinstance(_configuration,  Unset):
            configuration = UNSET
        else:
            configuration = CreateFlowRequestConfiguration.from_dict(_configuration)




        create_flow_request = cls(
            flow_type=flow_type,
            name=name,
            configuration=configuration,
        )


        create_flow_request.additional_properties = d
        return create_flow_request

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
