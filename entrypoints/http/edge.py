"""What every HTTP request goes through before Litestar routes it: ``HEAD`` answered as ``GET``
(:mod:`entrypoints.http.head_requests`). Routing comes first in Litestar, before any middleware, so a request must
be handled here to change what it is routed to."""

from __future__ import annotations

from litestar import Litestar
from litestar.types import Receive, Scope, Send

from entrypoints.http.head_requests import answer_head_as_get, is_head


class EdgeCheckedLitestar(Litestar):
    """The app: Litestar, with the checks above in front of its router."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if is_head(scope):
            await answer_head_as_get(scope, receive, send, super().__call__)  # type: ignore[arg-type]
            return
        await super().__call__(scope, receive, send)  # type: ignore[arg-type]
