from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.audit_finding_out import AuditFindingOut





T = TypeVar("T", bound="AuditReportOut")



@_attrs_define
class AuditReportOut:
    """ 
        Attributes:
            consistent (bool):
            findings (list[AuditFindingOut]):
            flows_checked (int):
            inconsistent (int):
            scope (str):
            seconds (float):
     """

    consistent: bool
    findings: list[AuditFindingOut]
    flows_checked: int
    inconsistent: int
    scope: str
    seconds: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.audit_finding_out import AuditFindingOut # noqa: PLC0415
        consistent = self.consistent

        findings = []
        for findings_item_data in self.findings:
            findings_item = findings_item_data.to_dict()
            findings.append(findings_item)



        flows_checked = self.flows_checked

        inconsistent = self.inconsistent

        scope = self.scope

        seconds = self.seconds


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "consistent": consistent,
            "findings": findings,
            "flows_checked": flows_checked,
            "inconsistent": inconsistent,
            "scope": scope,
            "seconds": seconds,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_finding_out import AuditFindingOut # noqa: PLC0415
        d = dict(src_dict)
        consistent = d.pop("consistent")

        findings = []
        _findings = d.pop("findings")
        for findings_item_data in (_findings):
            findings_item = AuditFindingOut.from_dict(findings_item_data)



            findings.append(findings_item)


        flows_checked = d.pop("flows_checked")

        inconsistent = d.pop("inconsistent")

        scope = d.pop("scope")

        seconds = d.pop("seconds")

        audit_report_out = cls(
            consistent=consistent,
            findings=findings,
            flows_checked=flows_checked,
            inconsistent=inconsistent,
            scope=scope,
            seconds=seconds,
        )


        audit_report_out.additional_properties = d
        return audit_report_out

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
