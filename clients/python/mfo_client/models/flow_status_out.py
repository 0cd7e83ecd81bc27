from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
from uuid import UUID

if TYPE_CHECKING:
  from ..models.child_status_out import ChildStatusOut
  from ..models.master_status_out import MasterStatusOut
  from ..models.phase_out import PhaseOut
  from ..models.running_phase_out import RunningPhaseOut





T = TypeVar("T", bound="FlowStatusOut")



@_attrs_define
class FlowStatusOut:
    """ 
        Attributes:
            child (ChildStatusOut | None):
            flow_id (UUID):
            flow_type (str):
            in_sync (bool):
            master (MasterStatusOut):
            phases (list[PhaseOut]):
            running_phase (None | RunningPhaseOut):
     """

    child: ChildStatusOut | None
    flow_id: UUID
    flow_type: str
    in_sync: bool
    master: MasterStatusOut
    phases: list[PhaseOut]
    running_phase: None | RunningPhaseOut
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.child_status_out import ChildStatusOut # noqa: PLC0415
        from ..models.master_status_out import MasterStatusOut # noqa: PLC0415
        from ..models.phase_out import PhaseOut # noqa: PLC0415
        from ..models.running_phase_out import RunningPhaseOut # noqa: PLC0415
        child: dict[str, Any] | None
        if isinstance(self.child, ChildStatusOut):
            child = self.child.to_dict()
        else:
            child = self.child

        flow_id = str(self.flow_id)

        flow_type = self.flow_type

        in_sync = self.in_sync

        master = self.master.to_dict()

        phases = []
        for phases_item_data in self.phases:
            phases_item = phases_item_data.to_dict()
            phases.append(phases_item)



        running_phase: dict[str, Any] | None
        if isinstance(self.running_phase, RunningPhaseOut):
            running_phase = self.running_phase.to_dict()
        else:
            running_phase = self.running_phase


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "child": child,
            "flow_id": flow_id,
            "flow_type": flow_type,
            "in_sync": in_sync,
            "master": master,
            "phases": phases,
            "running_phase": running_phase,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.child_status_out import ChildStatusOut # noqa: PLC0415
        from ..models.master_status_out import MasterStatusOut # noqa: PLC0415
        from ..models.phase_out import PhaseOut # noqa: PLC0415
        from ..models.running_phase_out import RunningPhaseOut # noqa: PLC0415
        d = dict(src_dict)
        def _parse_child(data: object) -> ChildStatusOut | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                child_type_0 = ChildStatusOut.from_dict(data)



                return child_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ChildStatusOut | None, data)

        child = _parse_child(d.pop("child"))


        flow_id = UUID(d.pop("flow_id"))




        flow_type = d.pop("flow_type")

        in_sync = d.pop("in_sync")

        master = MasterStatusOut.from_dict(d.pop("master"))




        phases = []
        _phases = d.pop("phases")
        for phases_item_data in (_phases):
            phases_item = PhaseOut.from_dict(phases_item_data)



            phases.append(phases_item)


        def _parse_running_phase(data: object) -> None | RunningPhaseOut:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                running_phase_type_0 = RunningPhaseOut.from_dict(data)



                return running_phase_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RunningPhaseOut, data)

        running_phase = _parse_running_phase(d.pop("running_phase"))


        flow_status_out = cls(
            child=child,
            flow_id=flow_id,
            flow_type=flow_type,
            in_sync=in_sync,
            master=master,
            phases=phases,
            running_phase=running_phase,
        )


        flow_status_out.additional_properties = d
        return flow_status_out

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
