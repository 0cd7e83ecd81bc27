"""What a discovery flow's configuration may hold, checked when the flow is created."""

from __future__ import annotations

from typing import Any

from adapters.flow_types import configuration_checks as check


def validate_configuration(configuration: dict[str, Any]) -> None:
    """``data`` (CSV text) and ``rows`` (objects of plain values) when present; other fields are the client's.

    Raises InvalidFlowInput naming the field."""
    check.ensure_object(configuration)
    check.text(configuration, "data")
    check.rows_of_scalars(configuration, "rows")
