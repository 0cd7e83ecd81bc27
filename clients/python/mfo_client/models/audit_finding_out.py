from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
from uuid import UUID






T = TypeVar("T", bound="AuditFindingOut")



@_attrs_define
class AuditFindingOut:
    """ 
        Attributes:
            client_account_id (UUID):
            engagement_id (UUID):
            flow_id (UUID):
            flow_type (str):
            problems (list[str]):
            status (str):
            version (int):
     """

    client_account_id: UUID
    engagement_id: UUID
    flow_id: UUID
    flow_type: str
    problems: list[str]
    status: str
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        client_account_id = str(self.client_account_id)

        engagement_id = str(self.engagement_id)

        flow_id = str(self.flow_id)

        flow_type = self.flow_type

        problems = self.problems



        status = self.status

        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "client_account_id": client_account_id,
            "engagement_id": engagement_id,
            "flow_id": flow_id,
            "flow_type": flow_type,
            "problems": problems,
            "status": status,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_account_id = UUID(d.pop("client_account_id"))




        engagement_id = UUID(d.pop("engagement_id"))




        flow_id = UUID(d.pop("flow_id"))




        flow_type = d.pop("flow_type")

        problems = cast(list[str], d.pop("problems"))


        status = d.pop("status")

        version = d.pop("version")

        audit_finding_out = cls(
            client_account_id=client_account_id,
            engagement_id=engagement_id,
            flow_id=flow_id,
            flow_type=flow_type,
            problems=problems,
            status=status,
            version=version,
        )


        audit_finding_out.additional_properties = d
        return audit_finding_out

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
