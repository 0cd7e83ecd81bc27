"""What a flow can store: JSON-like values without NUL characters, nested to a sensible depth."""

from __future__ import annotations

from typing import Any

from domain.errors import InvalidFlowInput

MAX_DEPTH = 32


def ensure_storable(value: Any, what: str) -> None:
    """Raise ``InvalidFlowInput`` for a NUL character anywhere in ``value`` (PostgreSQL's text and jsonb cannot hold
    one) or nesting deeper than ``MAX_DEPTH``."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidFlowInput(f"{what} is nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            if "\x00" in item:
                raise InvalidFlowInput(f"{what} contains a NUL character, which cannot be stored")
        elif isinstance(item, dict):
            for key, nested in item.items():
                stack.append((key, depth + 1))
                stack.append((nested, depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((nested, depth + 1) for nested in item)
