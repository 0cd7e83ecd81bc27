"""The flow list's cursor: what it encodes comes back, and anything it could not have given out is InvalidCursor."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.persistence.cursors import decode_cursor, encode_cursor
from domain.errors import InvalidCursor


def forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@given(
    at=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_what_is_encoded_decodes(at: datetime, offset_minutes: int) -> None:
    flow_id = uuid4()
    local = at.astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert decode_cursor(encode_cursor(local, flow_id)) == (local, flow_id)


@pytest.mark.parametrize(
    "cursor",
    [
        forged(f"0001-01-01T00:00:00+14:00|{uuid4()}"),
        forged(f"0001-01-01T00:00:00+00:00|{uuid4()}"),
        forged(f"9999-12-31T23:59:59-14:00|{uuid4()}"),
        forged(f"9999-12-31T23:59:59+00:00|{uuid4()}"),
        forged(f"2026-01-01T00:00:00|{uuid4()}"),
        forged("2026-01-01T00:00:00+00:00|not-a-uuid"),
        forged(f"2026-01-01T00:00:00+00:00|{uuid4()}|extra"),
        forged("\x00|\x00"),
        "²",
        "",
        "c" * 600,
        base64.urlsafe_b64encode(b"\xff\xfe|").decode(),
    ],
)
def test_a_forged_or_corrupted_cursor_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


@given(st.text(max_size=80))
def test_any_text_decodes_or_is_invalid(cursor: str) -> None:
    try:
        at, _ = decode_cursor(cursor)
    except InvalidCursor:
        return
    assert at.tzinfo is not None and datetime(1, 1, 2, tzinfo=UTC) <= at <= datetime(9999, 12, 30, tzinfo=UTC)
