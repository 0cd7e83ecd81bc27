from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.flow_status import FlowStatus
from ..models.operation import Operation
from ..types import UNSET, Unset
from typing import cast
from uuid import UUID






T = TypeVar("T", bound="ConflictProblemOut")



@_attrs_define
class ConflictProblemOut:
    """ 
        Attributes:
            detail (str):
            instance (str):
            status (int):
            title (str):
            type_ (str):
            allowed_operations (list[Operation] | None | Unset):
            current_status (FlowStatus | None | Unset):
            current_version (int | None | Unset):
            expected_version (int | None | Unset):
            flow_id (None | Unset | UUID):
            from_version (int | None | Unset):
            reason (None | str | Unset):
            requested_operation (None | Operation | Unset):
            to_version (int | None | Unset):
     """

    detail: str
    instance: str
    status: int
    title: str
    type_: str
    allowed_operations: list[Operation] | None | Unset = UNSET
    current_status: FlowStatus | None | Unset = UNSET
    current_version: int | None | Unset = UNSET
    expected_version: int | None | Unset = UNSET
    flow_id: None | Unset | UUID = UNSET
    from_version: int | None | Unset = UNSET
    reason: None | str | Unset = UNSET
    requested_operation: None | Operation | Unset = UNSET
    to_version: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        detail = self.detail

        instance = self.instance

        status = self.status

        title = self.title

        type_ = self.type_

        allowed_operations: list[str] | None | Unset
        if isinstance(self.allowed_operations, Unset):
            allowed_operations = UNSET
        elif isinstance(self.allowed_operations, list):
            allowed_operations = []
            for allowed_operations_type_0_item_data in self.allowed_operations:
                allowed_operations_type_0_item = allowed_operations_type_0_item_data.value
                allowed_operations.append(allowed_operations_type_0_item)


        else:
            allowed_operations = self.allowed_operations

        current_status: None | str | Unset
        if isinstance(self.current_status, Unset):
            current_status = UNSET
        elif isinstance(self.current_status, FlowStatus):
            current_status = self.current_status.value
        else:
            current_status = self.current_status

        current_version: int | None | Unset
        if isinstance(self.current_version, Unset):
            current_version = UNSET
        else:
            current_version = self.current_version

        expected_version: int | None | Unset
        if isinstance(self.expected_version, Unset):
            expected_version = UNSET
        else:
            expected_version = self.expected_version

        flow_id: None | str | Unset
        if isinstance(self.flow_id, Unset):
            flow_id = UNSET
        elif isinstance(self.flow_id, UUID):
            flow_id = str(self.flow_id)
        else:
            flow_id = self.flow_id

        from_version: int | None | Unset
        if isinstance(self.from_version, Unset):
            from_version = UNSET
        else:
            from_version = self.from_version

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        requested_operation: None | str | Unset
        if isinstance(self.requested_operation, Unset):
            requested_operation = UNSET
        elif isinstance(self.requested_operation, Operation):
            requested_operation = self.requested_operation.value
        else:
            requested_operation = self.requested_operation

        to_version: int | None | Unset
        if isinstance(self.to_version, Unset):
            to_version = UNSET
        else:
            to_version = self.to_version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "detail": detail,
            "instance": instance,
            "status": status,
            "title": title,
            "type": type_,
        })
        if allowed_operations is not UNSET:
            field_dict["allowed_operations"] = allowed_operations
        if current_status is not UNSET:
            field_dict["current_status"] = current_status
        if current_version is not UNSET:
            field_dict["current_version"] = current_version
        if expected_version is not UNSET:
            field_dict["expected_version"] = expected_version
        if flow_id is not UNSET:
            field_dict["flow_id"] = flow_id
        if from_version is not UNSET:
            field_dict["from_version"] = from_version
        if reason is not UNSET:
            field_dict["reason"] = reason
        if requested_operation is not UNSET:
            field_dict["requested_operation"] = requested_operation
        if to_version is not UNSET:
            field_dict["to_version"] = to_version

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        detail = d.pop("detail")

        instance = d.pop("instance")

        status = d.pop("status")

        title = d.pop("title")

        type_ = d.pop("type")

        def _parse_allowed_operations(data: object) -> list[Operation] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                allowed_operations_type_0 = []
                _allowed_operations_type_0 = data
                for allowed_operations_type_0_item_data in (_allowed_operations_type_0):
                    allowed_operations_type_0_item = Operation(allowed_operations_type_0_item_data)



                    allowed_operations_type_0.append(allowed_operations_type_0_item)

                return allowed_operations_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Operation] | None | Unset, data)

        allowed_operations = _parse_allowed_operations(d.pop("allowed_operations", UNSET))


        def _parse_current_status(data: object) -> FlowStatus | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                current_status_type_0 = FlowStatus(data)



                return current_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FlowStatus | None | Unset, data)

        current_status = _parse_current_status(d.pop("current_status", UNSET))


        def _parse_current_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        current_version = _parse_current_version(d.pop("current_version", UNSET))


        def _parse_expected_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        expected_version = _parse_expected_version(d.pop("expected_version", UNSET))


        def _parse_flow_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                flow_id_type_0 = UUID(data)



                return flow_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        flow_id = _parse_flow_id(d.pop("flow_id", UNSET))


        def _parse_from_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        from_version = _parse_from_version(d.pop("from_version", UNSET))


        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))


        def _parse_requested_operation(data: object) -> None | Operation | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                requested_operation_type_0 = Operation(data)



                return requested_operation_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Operation | Unset, data)

        requested_operation = _parse_requested_operation(d.pop("requested_operation", UNSET))


        def _parse_to_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        to_version = _parse_to_version(d.pop("to_version", UNSET))


        conflict_problem_out = cls(
            detail=detail,
            instance=instance,
            status=status,
            title=title,
            type_=type_,
            allowed_operations=allowed_operations,
            current_status=current_status,
            current_version=current_version,
            expected_version=expected_version,
            flow_id=flow_id,
            from_version=from_version,
            reason=reason,
            requested_operation=requested_operation,
            to_version=to_version,
        )


        conflict_problem_out.additional_properties = d
        return conflict_problem_out

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
