"""A query parameter that takes one value, given more than once, is a 400: Litestar's own parsing would keep the
last value silently (``?q=a&q=b`` as ``q=b``). Parameters declared as lists (``status``) may repeat."""

from __future__ import annotations

import functools
from collections import Counter
from urllib.parse import parse_qsl

from litestar.enums import ScopeType
from litestar.exceptions import ValidationException
from litestar.handlers import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send


@functools.cache
def single_valued(handler: BaseRouteHandler) -> frozenset[str]:
    """The names of the handler's parameters that take one value (not a list, optional or not)."""
    return frozenset(
        name
        for name, field in handler.parsed_fn_signature.parameters.items()
        if not any(kind.is_non_string_collection for kind in (field, *field.inner_types))
    )


def repeated_single_values(query_string: bytes, handler: BaseRouteHandler) -> list[str]:
    """The parameters of ``query_string`` given more than once that ``handler`` takes one value of, sorted (one it
    does not take at all is ignored, as Litestar ignores it)."""
    counts = Counter(name for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    taken = single_valued(handler)
    return sorted(name for name, n in counts.items() if n > 1 and name in taken)


class SingleValuedQueryMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        repeated = repeated_single_values(scope.get("query_string", b""), scope["route_handler"])
        if repeated:
            names = ", ".join(f"'{name}'" for name in repeated)
            raise ValidationException(f"query parameter {names} takes one value but was given more than once")
        await next_app(scope, receive, send)
