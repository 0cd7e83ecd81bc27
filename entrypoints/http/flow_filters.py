"""The list's query parameters (``status``, ``q``, ``created_after``, ``created_before``) as one FlowFilter; a value
that cannot be one is a 400 that names the parameter."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.echo import excerpt
from domain.lifecycle import FlowStatus
from domain.ports import FlowFilter
from entrypoints.http.problems import BadRequest

MAX_SEARCH_LENGTH = 200
"""As long as a flow's name may be."""


def parse_search(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if len(text) > MAX_SEARCH_LENGTH or not text.isprintable():
        raise BadRequest(f"q must be 1 to {MAX_SEARCH_LENGTH} printable characters", parameter="q")
    return text


def parse_instant(raw: str | None, parameter: str) -> datetime | None:
    """An RFC 3339 date-time with its offset (``2026-05-01T12:00:00Z``), in UTC; a time without one is refused,
    since it would be read in some time zone the caller did not name, and so is one outside years 1..9999 in UTC
    (PostgreSQL's and Python's range)."""
    if raw is None or not raw.strip():
        return None
    try:
        instant = datetime.fromisoformat(raw.strip())
        instant = instant.astimezone(UTC) if instant.tzinfo is not None else None
    except (ValueError, OverflowError):  # not a date-time, or outside years 1..9999 once in UTC
        instant = None
    if instant is None:
        raise BadRequest(
            f"{parameter} must be a date-time with a UTC offset, such as 2026-05-01T12:00:00Z; got {excerpt(raw)!r}",
            parameter=parameter,
        )
    return instant


def flow_filter(
    *,
    flow_type: str | None,
    statuses: tuple[FlowStatus, ...] | None,
    include_deleted: bool,
    q: str | None,
    created_after: str | None,
    created_before: str | None,
) -> FlowFilter:
    after = parse_instant(created_after, "created_after")
    before = parse_instant(created_before, "created_before")
    if after is not None and before is not None and after >= before:
        raise BadRequest("created_after must be earlier than created_before", parameter="created_after")
    return FlowFilter(
        flow_type=flow_type,
        statuses=statuses,
        include_deleted=include_deleted,
        search=parse_search(q),
        created_after=after,
        created_before=before,
    )
