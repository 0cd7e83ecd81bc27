from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="BulkMigrateRequest")



@_attrs_define
class BulkMigrateRequest:
    """ 
        Attributes:
            dry_run (bool):
            flow_type (str):
            from_version (int):
            to_version (int):
            limit (int | Unset):  Default: 100.
            statuses (list[str] | None | Unset):
     """

    dry_run: bool
    flow_type: str
    from_version: int
    to_version: int
    limit: int | Unset = 100
    statuses: list[str] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        dry_run = self.dry_run

        flow_type = self.flow_type

        from_version = self.from_version

        to_version = self.to_version

        limit = self.limit

        statuses: list[str] | None | Unset
        if isinstance(self.statuses, Unset):
            statuses = UNSET
        elif isinstance(self.statuses, list):
            statuses = self.statuses


        else:
            statuses = self.statuses


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "dry_run": dry_run,
            "flow_type": flow_type,
            "from_version": from_version,
            "to_version": to_version,
        })
        if limit is not UNSET:
            field_dict["limit"] = limit
        if statuses is not UNSET:
            field_dict["statuses"] = statuses

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        dry_run = d.pop("dry_run")

        flow_type = d.pop("flow_type")

        from_version = d.pop("from_version")

        to_version = d.pop("to_version")

        limit = d.pop("limit", UNSET)

        def _parse_statuses(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                statuses_type_0 = cast(list[str], data)

                return statuses_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        statuses = _parse_statuses(d.pop("statuses", UNSET))


        bulk_migrate_request = cls(
            dry_run=dry_run,
            flow_type=flow_type,
            from_version=from_version,
            to_version=to_version,
            limit=limit,
            statuses=statuses,
        )


        bulk_migrate_request.additional_properties = d
        return bulk_migrate_request

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
