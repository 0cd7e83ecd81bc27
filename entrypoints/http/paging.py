"""The paging parameters of the list routes, checked before any query: ``limit`` and the events' cursor.

Both are ASCII digits only (``str.isdigit`` and ``\\d`` also take digits of other scripts, and ``str.isdigit``
superscripts that ``int`` refuses), and each must fit what it is compared with: a page size the settings allow, a
version PostgreSQL's ``integer`` holds.
"""

from __future__ import annotations

import re

from domain.echo import excerpt
from entrypoints.http.problems import BadRequest

ASCII_DIGITS = re.compile(r"[0-9]{1,10}", re.ASCII)
POSTGRES_INTEGER_MAX = 2**31 - 1
"""The largest value of PostgreSQL's ``integer`` (int4), the type of a flow's and an event's version."""


def page_limit(raw: str | None, default: int, maximum: int) -> int:
    """``limit`` as a page size from 1 to ``maximum``; ``default`` when absent."""
    if raw is None:
        return default
    if not ASCII_DIGITS.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"limit must be a whole number from 1 to {maximum}, not {excerpt(raw)!r}", parameter="limit")
    return int(raw)


def events_after(cursor: str | None) -> int:
    """The version the events' ``cursor`` continues after (0 when absent): a ``next_cursor`` this listing gave out."""
    if cursor is None:
        return 0
    if not ASCII_DIGITS.fullmatch(cursor) or int(cursor) > POSTGRES_INTEGER_MAX:
        raise BadRequest(
            f"cursor must be a next_cursor this listing gave out, not {excerpt(cursor)!r}", parameter="cursor"
        )
    return int(cursor)
