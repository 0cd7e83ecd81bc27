"""ensure_storable: NUL characters anywhere and nesting deeper than MAX_DEPTH are refused, the rest is storable."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InvalidFlowInput
from domain.storable import MAX_DEPTH, ensure_storable


def dicts(levels: int) -> Any:
    """A value whose leaf is ``levels`` dictionaries deep (the leaf's depth is ``levels``)."""
    value: Any = "leaf"
    for _ in range(levels):
        value = {"k": value}
    return value


def lists(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


def tuples(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = (value,)
    return value


@pytest.mark.parametrize("nest", [dicts, lists, tuples])
def test_the_deepest_allowed_nesting_is_storable_and_one_level_more_is_not(nest: Any) -> None:
    ensure_storable(nest(MAX_DEPTH), "configuration")
    with pytest.raises(InvalidFlowInput) as raised:
        ensure_storable(nest(MAX_DEPTH + 1), "configuration")
    assert str(raised.value) == f"configuration is nested deeper than {MAX_DEPTH} levels"


def test_a_dictionary_key_counts_one_level_below_its_dictionary() -> None:
    # The key's own content starts one level below the dictionary, like its value.
    ensure_storable({tuples(MAX_DEPTH - 1): 1}, "result")
    with pytest.raises(InvalidFlowInput, match="nested deeper"):
        ensure_storable({tuples(MAX_DEPTH): 1}, "result")


@pytest.mark.parametrize(
    "value",
    ["a\x00b", {"k": "a\x00b"}, {"a\x00b": 1}, ["ok", "a\x00b"], ("a\x00b",), dicts(MAX_DEPTH - 1) | {"x": "\x00"}],
)
def test_a_nul_character_anywhere_is_refused(value: Any) -> None:
    with pytest.raises(InvalidFlowInput) as raised:
        ensure_storable(value, "input")
    assert str(raised.value) == "input contains a NUL character, which cannot be stored"


@pytest.mark.parametrize("value", [None, 1, 1.5, True, "text", {"a": [1, {"b": None}]}, []])
def test_json_like_values_without_nul_are_storable(value: Any) -> None:
    ensure_storable(value, "input")
