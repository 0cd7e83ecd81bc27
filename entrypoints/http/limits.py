"""Request bodies the JSON decoder cannot take become 400 problems, not 500s.

Malformed JSON is a 400 that says so. Two cases escaped Litestar's own handling as 500s: bytes that are not UTF-8
(``UnicodeDecodeError``) and nesting deeper than the decoder's recursion limit (``RecursionError``). Nesting the
decoder accepts but deeper than ``domain.storable.MAX_DEPTH`` is refused later with a 422; the size limit is
``request_max_body_size`` (413).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, SerializationException


class MfoRequest(Request):
    async def json(self) -> Any:
        try:
            return await super().json()
        except SerializationException as e:
            raise ClientException(f"the request body is not valid JSON: {e}") from None
        except RecursionError:
            raise ClientException("the request body is not valid JSON: it is nested too deeply to decode") from None
        except UnicodeDecodeError as e:
            raise ClientException(
                f"the request body is not valid JSON: it is not UTF-8 ({e.reason} at byte {e.start})"
            ) from None
