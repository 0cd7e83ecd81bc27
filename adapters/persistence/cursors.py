"""The flow list's opaque cursor: where the last page ended, as ``created_at|flow_id`` in URL-safe base64.

Pure: no database. A cursor comes back from a client, so :func:`decode_cursor` takes nothing on trust: anything
this listing could not have given out (not base64, not UTF-8, not two parts, a naive or unparsable timestamp, a
timestamp PostgreSQL's ``timestamptz`` or the driver cannot hold, not a UUID) is :class:`InvalidCursor`, before any
query is built from it.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from uuid import UUID

from domain.errors import InvalidCursor

MAX_CURSOR_LENGTH = 512
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
"""The timestamps a cursor may hold: a day inside Python's range at each end, so that the value and its UTC form
both exist (``timestamptz`` itself reaches further back and further on)."""


def encode_cursor(created_at: datetime, flow_id: UUID) -> str:
    raw = f"{created_at.isoformat()}|{flow_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The ``created_at`` and ``flow_id`` the cursor names, or InvalidCursor."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise InvalidCursor(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, flow_id = raw.split("|")
        return _timestamp(created_at), UUID(flow_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(cursor) from None


def _timestamp(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("naive timestamp")
    if not EARLIEST <= parsed.astimezone(UTC) <= LATEST:  # astimezone raises OverflowError past year 9999
        raise ValueError("timestamp out of range")
    return parsed
