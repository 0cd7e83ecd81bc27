"""The pure parts of the HTTP edge: header limits, Allow with HEAD, JSON media types, echoes, paging numbers."""

from __future__ import annotations

import pytest

from domain.echo import excerpt
from entrypoints.http.head_requests import allow_with_head
from entrypoints.http.header_limits import HeaderLimits
from entrypoints.http.limits import is_json
from entrypoints.http.paging import events_after, page_limit
from entrypoints.http.problems import BadRequest


def test_header_limits_count_fields_and_bytes() -> None:
    limits = HeaderLimits(max_count=2, max_bytes=10)
    assert limits.excess([(b"a", b"1"), (b"b", b"2")]) is None
    assert "3 header fields" in (limits.excess([(b"a", b"1")] * 3) or "")
    assert "11 bytes" in (limits.excess([(b"abc", b"12345678")]) or "")


def test_allow_names_head_wherever_it_names_get() -> None:
    assert allow_with_head("GET, OPTIONS") == "GET, HEAD, OPTIONS"
    assert allow_with_head("POST, OPTIONS") == "OPTIONS, POST"
    assert allow_with_head("GET, HEAD") == "GET, HEAD"


@pytest.mark.parametrize(
    ("content_type", "json"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/merge-patch+json", True),
        ("text/plain", False),
        ("text/json+x", False),
        ("application/x-www-form-urlencoded", False),
        ("", False),
    ],
)
def test_json_media_types(content_type: str, json: bool) -> None:
    assert is_json(content_type) is json


def test_an_excerpt_cuts_long_input_with_an_ellipsis() -> None:
    assert excerpt("short") == "short"
    cut = excerpt("x" * 500)
    assert len(cut) == 100 and cut.endswith("…")


@pytest.mark.parametrize("raw", ["²", "١", "0", "-1", "+1", " 1", "1e3", "201", "9" * 30, ""])
def test_page_limits_outside_ascii_digits_in_range_are_refused(raw: str) -> None:
    with pytest.raises(BadRequest, match="limit"):
        page_limit(raw, 50, 200)


def test_page_limits_in_range() -> None:
    assert page_limit(None, 50, 200) == 50
    assert page_limit("200", 50, 200) == 200


@pytest.mark.parametrize("raw", ["²", "①", "٣", "-1", "1.0", str(2**31), "9" * 16, ""])
def test_events_cursors_past_postgresql_integer_or_not_ascii_digits_are_refused(raw: str) -> None:
    with pytest.raises(BadRequest, match="cursor"):
        events_after(raw)


def test_events_cursors_in_range() -> None:
    assert events_after(None) == 0
    assert events_after(str(2**31 - 1)) == 2**31 - 1
