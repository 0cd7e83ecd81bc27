"""How much of a client's input an error message repeats: one rule for every message, wherever it is built."""

from __future__ import annotations

ECHO_LIMIT = 100
"""The most characters of a client's input a message repeats."""


def excerpt(text: object, limit: int = ECHO_LIMIT) -> str:
    """``text`` as a message may echo it: at most ``limit`` characters, an ellipsis marking what was cut."""
    value = str(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"
