from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.flow_status import FlowStatus
from ..models.operation import Operation
from typing import cast
from uuid import UUID
import datetime

if TYPE_CHECKING:
  from ..models.contract_out import ContractOut
  from ..models.flow_out_configuration import FlowOutConfiguration
  from ..models.flow_out_phase_results import FlowOutPhaseResults
  from ..models.phase_out import PhaseOut
  from ..models.running_phase_out import RunningPhaseOut





T = TypeVar("T", bound="FlowOut")



@_attrs_define
class FlowOut:
    """ 
        Attributes:
            allowed_operations (list[Operation]):
            auto_run (bool):
            client_account_id (UUID):
            configuration (FlowOutConfiguration):
            contract (ContractOut):
            created_at (datetime.datetime):
            current_phase (None | str):
            engagement_id (UUID):
            error (None | str):
            flow_id (UUID):
            flow_type (str):
            name (str):
            phase_results (FlowOutPhaseResults):
            phases (list[PhaseOut]):
            progress_percent (int):
            running_phase (None | RunningPhaseOut):
            status (FlowStatus):
            updated_at (datetime.datetime):
            version (int):
     """

    allowed_operations: list[Operation]
    auto_run: bool
    client_account_id: UUID
    configuration: FlowOutConfiguration
    contract: ContractOut
    created_at: datetime.datetime
    current_phase: None | str
    engagement_id: UUID
    error: None | str
    flow_id: UUID
    flow_type: str
    name: str
    phase_results: FlowOutPhaseResults
    phases: list[PhaseOut]
    progress_percent: int
    running_phase: None | RunningPhaseOut
    status: FlowStatus
    updated_at: datetime.datetime
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.contract_out import ContractOut # noqa: PLC0415
        from ..models.flow_out_configuration import FlowOutConfiguration # noqa: PLC0415
        from ..models.flow_out_phase_results import FlowOutPhaseResults # noqa: PLC0415
        from ..models.phase_out import PhaseOut # noqa: PLC0415
        from ..models.running_phase_out import RunningPhaseOut # noqa: PLC0415
        allowed_operations = []
        for allowed_operations_item_data in self.allowed_operations:
            allowed_operations_item = allowed_operations_item_data.value
            allowed_operations.append(allowed_operations_item)



        auto_run = self.auto_run

        client_account_id = str(self.client_account_id)

        configuration = self.configuration.to_dict()

        contract = self.contract.to_dict()

        created_at = self.created_at.isoformat()

        current_phase: None | str
        current_phase = self.current_phase

        engagement_id = str(self.engagement_id)

        error: None | str
        error = self.error

        flow_id = str(self.flow_id)

        flow_type = self.flow_type

        name = self.name

        phase_results = self.phase_results.to_dict()

        phases = []
        for phases_item_data in self.phases:
            phases_item = phases_item_data.to_dict()
            phases.append(phases_item)



        progress_percent = self.progress_percent

        running_phase: dict[str, Any] | None
        if isinstance(self.running_phase, RunningPhaseOut):
            running_phase = self.running_phase.to_dict()
        else:
            running_phase = self.running_phase

        status = self.status.value

        updated_at = self.updated_at.isoformat()

        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "allowed_operations": allowed_operations,
            "auto_run": auto_run,
            "client_account_id": client_account_id,
            "configuration": configuration,
            "contract": contract,
            "created_at": created_at,
            "current_phase": current_phase,
            "engagement_id": engagement_id,
            "error": error,
            "flow_id": flow_id,
            "flow_type": flow_type,
            "name": name,
            "phase_results": phase_results,
            "phases": phases,
            "progress_percent": progress_percent,
            "running_phase": running_phase,
            "status": status,
            "updated_at": updated_at,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.contract_out import ContractOut # noqa: PLC0415
        from ..models.flow_out_configuration import FlowOutConfiguration # noqa: PLC0415
        from ..models.flow_out_phase_results import FlowOutPhaseResults # noqa: PLC0415
        from ..models.phase_out import PhaseOut # noqa: PLC0415
        from ..models.running_phase_out import RunningPhaseOut # noqa: PLC0415
        d = dict(src_dict)
        allowed_operations = []
        _allowed_operations = d.pop("allowed_operations")
        for allowed_operations_item_data in (_allowed_operations):
            allowed_operations_item = Operation(allowed_operations_item_data)



            allowed_operations.append(allowed_operations_item)


        auto_run = d.pop("auto_run")

        client_account_id = UUID(d.pop("client_account_id"))




        configuration = FlowOutConfiguration.from_dict(d.pop("configuration"))




        contract = ContractOut.from_dict(d.pop("contract"))




        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_current_phase(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        current_phase = _parse_current_phase(d.pop("current_phase"))


        engagement_id = UUID(d.pop("engagement_id"))




        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))


        flow_id = UUID(d.pop("flow_id"))




        flow_type = d.pop("flow_type")

        name = d.pop("name")

        phase_results = FlowOutPhaseResults.from_dict(d.pop("phase_results"))




        phases = []
        _phases = d.pop("phases")
        for phases_item_data in (_phases):
            phases_item = PhaseOut.from_dict(phases_item_data)



            phases.append(phases_item)


        progress_percent = d.pop("progress_percent")

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


        status = FlowStatus(d.pop("status"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        version = d.pop("version")

        flow_out = cls(
            allowed_operations=allowed_operations,
            auto_run=auto_run,
            client_account_id=client_account_id,
            configuration=configuration,
            contract=contract,
            created_at=created_at,
            current_phase=current_phase,
            engagement_id=engagement_id,
            error=error,
            flow_id=flow_id,
            flow_type=flow_type,
            name=name,
            phase_results=phase_results,
            phases=phases,
            progress_percent=progress_percent,
            running_phase=running_phase,
            status=status,
            updated_at=updated_at,
            version=version,
        )


        flow_out.additional_properties = d
        return flow_out

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
