"""Request bodies the JSON decoder cannot take become 4xx problems, not 500s.

Malformed JSON is a 400 that says so, and so are bytes that are not UTF-8 (``UnicodeDecodeError``) and nesting
deeper than the decoder's recursion limit (``RecursionError``), which Litestar's own handling does not catch.
Nesting the decoder accepts but deeper than ``domain.storable.MAX_DEPTH`` is refused later with a 422; the size limit is
``request_max_body_size`` (413). A body whose ``Content-Type`` names another format than JSON is a 415 (no
``Content-Type`` at all is read as JSON).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, HTTPException, SerializationException

from domain.echo import excerpt


def is_json(content_type: str) -> bool:
    """``application/json`` or any ``+json`` type (``application/merge-patch+json``), whatever its parameters."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


class MfoRequest(Request):
    async def json(self) -> Any:
        content_type = self.headers.get("Content-Type")
        if content_type is not None and not is_json(content_type):
            raise HTTPException(
                status_code=415,
                detail=f"the request body must be application/json, not {excerpt(content_type)!r}",
                headers={"Accept-Post": "application/json"},
            )
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
