from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
from uuid import UUID

if TYPE_CHECKING:
  from ..models.migration_plan_out import MigrationPlanOut





T = TypeVar("T", bound="BulkMigrationItemOut")



@_attrs_define
class BulkMigrationItemOut:
    """ 
        Attributes:
            flow_id (UUID):
            outcome (str):
            plan (MigrationPlanOut | None):
            reason (None | str):
            version (int):
     """

    flow_id: UUID
    outcome: str
    plan: MigrationPlanOut | None
    reason: None | str
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.migration_plan_out import MigrationPlanOut # noqa: PLC0415
        flow_id = str(self.flow_id)

        outcome = self.outcome

        plan: dict[str, Any] | None
        if isinstance(self.plan, MigrationPlanOut):
            plan = self.plan.to_dict()
        else:
            plan = self.plan

        reason: None | str
        reason = self.reason

        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "flow_id": flow_id,
            "outcome": outcome,
            "plan": plan,
            "reason": reason,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.migration_plan_out import MigrationPlanOut # noqa: PLC0415
        d = dict(src_dict)
        flow_id = UUID(d.pop("flow_id"))




        outcome = d.pop("outcome")

        def _parse_plan(data: object) -> MigrationPlanOut | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                plan_type_0 = MigrationPlanOut.from_dict(data)



                return plan_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MigrationPlanOut | None, data)

        plan = _parse_plan(d.pop("plan"))


        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))


        version = d.pop("version")

        bulk_migration_item_out = cls(
            flow_id=flow_id,
            outcome=outcome,
            plan=plan,
            reason=reason,
            version=version,
        )


        bulk_migration_item_out.additional_properties = d
        return bulk_migration_item_out

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
