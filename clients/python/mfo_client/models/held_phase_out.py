from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="HeldPhaseOut")



@_attrs_define
class HeldPhaseOut:
    """ 
        Attributes:
            attempt (int):
            flow_id (UUID):
            flow_type (str):
            lease_expired (bool):
            lease_expires_at (datetime.datetime):
            name (str):
            owner (str):
            phase (str):
            started_at (datetime.datetime):
     """

    attempt: int
    flow_id: UUID
    flow_type: str
    lease_expired: bool
    lease_expires_at: datetime.datetime
    name: str
    owner: str
    phase: str
    started_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        attempt = self.attempt

        flow_id = str(self.flow_id)

        flow_type = self.flow_type

        lease_expired = self.lease_expired

        lease_expires_at = self.lease_expires_at.isoformat()

        name = self.name

        owner = self.owner

        phase = self.phase

        started_at = self.started_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "attempt": attempt,
            "flow_id": flow_id,
            "flow_type": flow_type,
            "lease_expired": lease_expired,
            "lease_expires_at": lease_expires_at,
            "name": name,
            "owner": owner,
            "phase": phase,
            "started_at": started_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempt = d.pop("attempt")

        flow_id = UUID(d.pop("flow_id"))




        flow_type = d.pop("flow_type")

        lease_expired = d.pop("lease_expired")

        lease_expires_at = datetime.datetime.fromisoformat(d.pop("lease_expires_at"))




        name = d.pop("name")

        owner = d.pop("owner")

        phase = d.pop("phase")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))




        held_phase_out = cls(
            attempt=attempt,
            flow_id=flow_id,
            flow_type=flow_type,
            lease_expired=lease_expired,
            lease_expires_at=lease_expires_at,
            name=name,
            owner=owner,
            phase=phase,
            started_at=started_at,
        )


        held_phase_out.additional_properties = d
        return held_phase_out

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
