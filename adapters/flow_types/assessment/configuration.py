"""What an assessment flow's configuration may hold, checked when the flow is created."""

from __future__ import annotations

from typing import Any

from adapters.flow_types import configuration_checks as check


def validate_configuration(configuration: dict[str, Any]) -> None:
    """``discovery_flow_id``, when present, is a UUID (the first phase checks that it names a completed discovery
    flow of the tenant). Raises InvalidFlowInput naming the field."""
    check.ensure_object(configuration)
    check.flow_id(configuration, "discovery_flow_id", "discovery")
