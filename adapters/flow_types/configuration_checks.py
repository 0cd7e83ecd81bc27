"""Checks of one configuration field each, shared by the flow types' ``validate_configuration`` functions.

Each raises :class:`InvalidFlowInput` naming the field and what it may hold; an absent field passes (a flow type
that needs it says so itself). Ranges are those the phases can compute with: a value that passes here cannot make
a later phase overflow.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from domain.echo import excerpt
from domain.errors import InvalidFlowInput

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
SCALARS = (str, int, float, bool, type(None))


def ensure_object(configuration: Any) -> None:
    if not isinstance(configuration, dict):
        raise InvalidFlowInput("the configuration must be a JSON object")


def whole_number(configuration: dict[str, Any], field: str, minimum: int, maximum: int) -> None:
    """``field``, when present, is a whole number (not a boolean) from ``minimum`` to ``maximum``."""
    if field not in configuration:
        return
    value = configuration[field]
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidFlowInput(
            f"configuration '{field}' must be a whole number from {minimum} to {maximum}, not {excerpt(repr(value))}"
        )


def iso_date(configuration: dict[str, Any], field: str, earliest: date, latest: date) -> None:
    """``field``, when present, is a date written ``YYYY-MM-DD`` from ``earliest`` to ``latest``."""
    if field not in configuration:
        return
    value = configuration[field]
    allowed = f"a date written YYYY-MM-DD from {earliest.isoformat()} to {latest.isoformat()}"
    try:
        parsed = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None or not earliest <= parsed <= latest:
        raise InvalidFlowInput(f"configuration '{field}' must be {allowed}, not {excerpt(repr(value))}")


def flow_id(configuration: dict[str, Any], field: str, flow_type: str) -> None:
    """``field``, when present, is the id (a UUID string) of a ``flow_type`` flow."""
    if field not in configuration:
        return
    value = configuration[field]
    if isinstance(value, str):
        try:
            UUID(value)
            return
        except ValueError:
            pass
    raise InvalidFlowInput(
        f"configuration '{field}' must be the id (a UUID) of a completed {flow_type} flow, not {excerpt(repr(value))}"
    )


def text(configuration: dict[str, Any], field: str) -> None:
    if field in configuration and not isinstance(configuration[field], str):
        raise InvalidFlowInput(f"configuration '{field}' must be text, not {excerpt(repr(configuration[field]))}")


def rows_of_scalars(configuration: dict[str, Any], field: str) -> None:
    """``field``, when present, is a list of objects whose values are text, booleans, null, finite numbers, and
    whole numbers within 64 bits."""
    if field not in configuration:
        return
    rows = configuration[field]
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise InvalidFlowInput(f"configuration '{field}' must be a list of objects (one per row)")
    for index, row in enumerate(rows):
        for key, value in row.items():
            if not _is_plain_scalar(value):
                raise InvalidFlowInput(
                    f"configuration '{field}' row {index} field {excerpt(repr(key))} must be text, a number from "
                    f"{INT64_MIN} to {INT64_MAX}, a boolean or null, not {excerpt(repr(value))}"
                )


def _is_plain_scalar(value: Any) -> bool:
    if not isinstance(value, SCALARS):
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        return INT64_MIN <= value <= INT64_MAX
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    return True
