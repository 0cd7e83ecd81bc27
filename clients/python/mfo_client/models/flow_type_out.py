from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.flow_type_out_example_configuration import FlowTypeOutExampleConfiguration
  from ..models.flow_type_out_example_inputs import FlowTypeOutExampleInputs
  from ..models.flow_type_out_input_schemas import FlowTypeOutInputSchemas
  from ..models.flow_type_version_out import FlowTypeVersionOut





T = TypeVar("T", bound="FlowTypeOut")



@_attrs_define
class FlowTypeOut:
    """ 
        Attributes:
            description (str):
            example_configuration (FlowTypeOutExampleConfiguration):
            example_inputs (FlowTypeOutExampleInputs):
            input_phases (list[str]):
            input_schemas (FlowTypeOutInputSchemas):
            name (str):
            phases (list[str]):
            version (int):
            versions (list[FlowTypeVersionOut]):
     """

    description: str
    example_configuration: FlowTypeOutExampleConfiguration
    example_inputs: FlowTypeOutExampleInputs
    input_phases: list[str]
    input_schemas: FlowTypeOutInputSchemas
    name: str
    phases: list[str]
    version: int
    versions: list[FlowTypeVersionOut]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.flow_type_out_example_configuration import FlowTypeOutExampleConfiguration # noqa: PLC0415
        from ..models.flow_type_out_example_inputs import FlowTypeOutExampleInputs # noqa: PLC0415
        from ..models.flow_type_out_input_schemas import FlowTypeOutInputSchemas # noqa: PLC0415
        from ..models.flow_type_version_out import FlowTypeVersionOut # noqa: PLC0415
        description = self.description

        example_configuration = self.example_configuration.to_dict()

        example_inputs = self.example_inputs.to_dict()

        input_phases = self.input_phases



        input_schemas = self.input_schemas.to_dict()

        name = self.name

        phases = self.phases



        version = self.version

        versions = []
        for versions_item_data in self.versions:
            versions_item = versions_item_data.to_dict()
            versions.append(versions_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "description": description,
            "example_configuration": example_configuration,
            "example_inputs": example_inputs,
            "input_phases": input_phases,
            "input_schemas": input_schemas,
            "name": name,
            "phases": phases,
            "version": version,
            "versions": versions,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.flow_type_out_example_configuration import FlowTypeOutExampleConfiguration # noqa: PLC0415
        from ..models.flow_type_out_example_inputs import FlowTypeOutExampleInputs # noqa: PLC0415
        from ..models.flow_type_out_input_schemas import FlowTypeOutInputSchemas # noqa: PLC0415
        from ..models.flow_type_version_out import FlowTypeVersionOut # noqa: PLC0415
        d = dict(src_dict)
        description = d.pop("description")

        example_configuration = FlowTypeOutExampleConfiguration.from_dict(d.pop("example_configuration"))




        example_inputs = FlowTypeOutExampleInputs.from_dict(d.pop("example_inputs"))




        input_phases = cast(list[str], d.pop("input_phases"))


        input_schemas = FlowTypeOutInputSchemas.from_dict(d.pop("input_schemas"))




        name = d.pop("name")

        phases = cast(list[str], d.pop("phases"))


        version = d.pop("version")

        versions = []
        _versions = d.pop("versions")
        for versions_item_data in (_versions):
            versions_item = FlowTypeVersionOut.from_dict(versions_item_data)



            versions.append(versions_item)


        flow_type_out = cls(
            description=description,
            example_configuration=example_configuration,
            example_inputs=example_inputs,
            input_phases=input_phases,
            input_schemas=input_schemas,
            name=name,
            phases=phases,
            version=version,
            versions=versions,
        )


        flow_type_out.additional_properties = d
        return flow_type_out

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
