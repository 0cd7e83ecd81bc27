from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
from uuid import UUID
import datetime

if TYPE_CHECKING:
  from ..models.lease_out import LeaseOut





T = TypeVar("T", bound="RunningPhaseOut")



@_attrs_define
class RunningPhaseOut:
    """ 
        Attributes:
            attempt (int):
            earlier_attempts (list[str]):
            phase (str):
            retry_at (datetime.datetime | None):
            run_id (None | UUID):
            running_seconds (float | None):
            started_at (datetime.datetime | None):
            lease (LeaseOut | None | Unset):
     """

    attempt: int
    earlier_attempts: list[str]
    phase: str
    retry_at: datetime.datetime | None
    run_id: None | UUID
    running_seconds: float | None
    started_at: datetime.datetime | None
    lease: LeaseOut | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.lease_out import LeaseOut # noqa: PLC0415
        attempt = self.attempt

        earlier_attempts = self.earlier_attempts



        phase = self.phase

        retry_at: None | str
        if isinstance(self.retry_at, datetime.datetime):
            retry_at = self.retry_at.isoformat()
        else:
            retry_at = self.retry_at

        run_id: None | str
        if isinstance(self.run_id, UUID):
            run_id = str(self.run_id)
        else:
            run_id = self.run_id

        running_seconds: float | None
        running_seconds = self.running_seconds

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        lease: dict[str, Any] | None | Unset
        if isinstance(self.lease, Unset):
            lease = UNSET
        elif isinstance(self.lease, LeaseOut):
            lease = self.lease.to_dict()
        else:
            lease = self.lease


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "attempt": attempt,
            "earlier_attempts": earlier_attempts,
            "phase": phase,
            "retry_at": retry_at,
            "run_id": run_id,
            "running_seconds": running_seconds,
            "started_at": started_at,
        })
        if lease is not UNSET:
            field_dict["lease"] = lease

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.lease_out import LeaseOut # noqa: PLC0415
        d = dict(src_dict)
        attempt = d.pop("attempt")

        earlier_attempts = cast(list[str], d.pop("earlier_attempts"))


        phase = d.pop("phase")

        def _parse_retry_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                retry_at_type_0 = datetime.datetime.fromisoformat(data)



                return retry_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        retry_at = _parse_retry_at(d.pop("retry_at"))


        def _parse_run_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                run_id_type_0 = UUID(data)



                return run_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        run_id = _parse_run_id(d.pop("run_id"))


        def _parse_running_seconds(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        running_seconds = _parse_running_seconds(d.pop("running_seconds"))


        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)



                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))


        def _parse_lease(data: object) -> LeaseOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                lease_type_0 = LeaseOut.from_dict(data)



                return lease_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(LeaseOut | None | Unset, data)

        lease = _parse_lease(d.pop("lease", UNSET))


        running_phase_out = cls(
            attempt=attempt,
            earlier_attempts=earlier_attempts,
            phase=phase,
            retry_at=retry_at,
            run_id=run_id,
            running_seconds=running_seconds,
            started_at=started_at,
            lease=lease,
        )


        running_phase_out.additional_properties = d
        return running_phase_out

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
