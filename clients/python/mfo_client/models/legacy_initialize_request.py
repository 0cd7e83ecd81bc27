from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.legacy_initialize_request_configuration import LegacyInitializeRequestConfiguration
  from ..models.legacy_initialize_request_raw_data_type_0_item import LegacyInitializeRequestRawDataType0Item





T = TypeVar("T", bound="LegacyInitializeRequest")



@_attrs_define
class LegacyInitializeRequest:
    """ 
        Attributes:
            flow_name (str):
            configuration (LegacyInitializeRequestConfiguration | Unset):
            raw_data (list[LegacyInitializeRequestRawDataType0Item] | None | Unset):
     """

    flow_name: str
    configuration: LegacyInitializeRequestConfiguration | Unset = UNSET
    raw_data: list[LegacyInitializeRequestRawDataType0Item] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.legacy_initialize_request_configuration import LegacyInitializeRequestConfiguration # noqa: PLC0415
        from ..models.legacy_initialize_request_raw_data_type_0_item import LegacyInitializeRequestRawDataType0Item # noqa: PLC0415
        flow_name = self.flow_name

        configuration: dict[str, Any] | Unset = UNSET
        if not isinstance(self.configuration, Unset):
            configuration = self.configuration.to_dict()

        raw_data: list[dict[str, Any]] | None | Unset
        if isinstance(self.raw_data, Unset):
            raw_data = UNSET
        elif isinstance(self.raw_data, list):
            raw_data = []
            for raw_data_type_0_item_data in self.raw_data:
                raw_data_type_0_item = raw_data_type_0_item_data.to_dict()
                raw_data.append(raw_data_type_0_item)


        else:
            raw_data = self.raw_data


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "flow_name": flow_name,
        })
        if configuration is not UNSET:
            field_dict["configuration"] = configuration
        if raw_data is not UNSET:
            field_dict["raw_data"] = raw_data

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.legacy_initialize_request_configuration import LegacyInitializeRequestConfiguration # noqa: PLC0415
        from ..models.legacy_initialize_request_raw_data_type_0_item import LegacyInitializeRequestRawDataType0Item # noqa: PLC0415
        d = dict(src_dict)
        flow_name = d.pop("flow_name")

        _configuration = d.pop("configuration", UNSET)
        configuration: LegacyInitializeRequestConfiguration | Unset
        if isinstance(_configuration,  Unset):
            configuration = UNSET
        else:
            configuration = LegacyInitializeRequestConfiguration.from_dict(_configuration)




        def _parse_raw_data(data: object) -> list[LegacyInitializeRequestRawDataType0Item] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                raw_data_type_0 = []
                _raw_data_type_0 = data
                for raw_data_type_0_item_data in (_raw_data_type_0):
                    raw_data_type_0_item = LegacyInitializeRequestRawDataType0Item.from_dict(raw_data_type_0_item_data)



                    raw_data_type_0.append(raw_data_type_0_item)

                return raw_data_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[LegacyInitializeRequestRawDataType0Item] | None | Unset, data)

        raw_data = _parse_raw_data(d.pop("raw_data", UNSET))


        legacy_initialize_request = cls(
            flow_name=flow_name,
            configuration=configuration,
            raw_data=raw_data,
        )


        legacy_initialize_request.additional_properties = d
        return legacy_initialize_request

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
