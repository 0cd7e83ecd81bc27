"""Authentication and roles for every ``/api/v1`` route: one app-wide guard.

The guard authenticates the caller (a JWT or an API key in ``Authorization: Bearer``, or an API key in
``X-API-Key``), checks the caller's role against the route's, and leaves the :class:`Principal` on the request's
state, where :func:`entrypoints.http.dependencies.provide_tenant` takes the tenant from. The role a route needs is
its handler's ``opt["role"]`` when set, else by method: reads need a viewer, other changes an operator, deletes an
admin. So a new ``/api/v1`` route is protected without doing anything.

Route-level requirements are explicit: ``opt={ROLE: Role.PLATFORM}`` makes a route the platform operator's alone
(a tenant's credential, even an admin's, gets 403), and protects it even outside ``/api/v1`` (``/metrics``);
``opt={ROLE: Role.ADMIN, PLATFORM_TOO: True}`` lets a tenant's admin and the platform operator call it (the handler
scopes what it does to the principal). Every other route is a tenant's: the platform operator, who has no tenant,
gets 403 there.

In ``dev`` mode a request without credentials is an admin of the tenant its ``X-Client-Account-ID`` and
``X-Engagement-ID`` headers name (``make run`` uses it; never in production). It is never the platform operator:
platform routes need a platform credential in every mode (``mfo token --platform``).
"""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from domain.auth import AuthenticationFailed, Principal, Role
from domain.events import Tenant
from entrypoints.http.problems import BadRequest, problem
from entrypoints.http.request_context import bind_log_tenant

PROTECTED_PREFIX = "/api/v1"
ROLE = "role"
"""The key of a route handler's ``opt`` naming the role it needs, e.g. ``opt={ROLE: Role.ADMIN}``."""
PLATFORM_TOO = "platform_too"
"""The key of a route handler's ``opt`` that also admits the platform operator to a tenant route."""
PRINCIPAL = "principal"
REALM = 'Bearer realm="mfo"'
DEV_TENANT_HEADERS = ("X-Client-Account-ID", "X-Engagement-ID")
READS = frozenset({"GET", "HEAD", "OPTIONS"})

logger = logging.getLogger("mfo.auth")


class Forbidden(Exception):
    def __init__(self, role: Role, required: Role) -> None:
        self.role = role
        self.required = required
        super().__init__(forbidden_reason(role, required))


def forbidden_reason(role: Role, required: Role) -> str:
    if required is Role.PLATFORM:
        return (
            "this route is system-wide and needs the platform operator's credential (mfo token --platform); "
            f"a tenant's credential ({role}) may not call it"
        )
    if role is Role.PLATFORM:
        return (
            f"this route acts on a tenant's flows and needs a tenant's credential with the {required} role; "
            "the platform operator's credential names no tenant"
        )
    return f"this route needs the {required} role; the credential carries {role}"


def is_protected(path: str) -> bool:
    return path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")


def needs_credential(path: str, handler: BaseRouteHandler) -> bool:
    """Every ``/api/v1`` route, and any other route that names the role it needs (``/metrics``)."""
    return is_protected(path) or handler.opt.get(ROLE) is not None


def platform_only(handler: BaseRouteHandler) -> bool:
    explicit = handler.opt.get(ROLE)
    return explicit is not None and Role(explicit) is Role.PLATFORM


def check_access(principal: Principal, handler: BaseRouteHandler, method: str) -> None:
    """:class:`Forbidden` unless the principal's role allows the route's (the platform operator: see above)."""
    if principal.is_platform and handler.opt.get(PLATFORM_TOO):
        return
    required = required_role(handler, method)
    if not principal.role.allows(required):
        raise Forbidden(principal.role, required)


def required_role(handler: BaseRouteHandler, method: str) -> Role:
    explicit = handler.opt.get(ROLE)
    if explicit is not None:
        return Role(explicit)
    if method in READS:
        return Role.VIEWER
    if method == "DELETE":
        return Role.ADMIN
    return Role.OPERATOR


def credential_of(connection: ASGIConnection) -> str | None:
    authorization = connection.headers.get("Authorization")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token or API key>'")
        return value.strip()
    api_key = connection.headers.get("X-API-Key")
    if api_key is not None:
        return api_key.strip()
    return None


def dev_principal(connection: ASGIConnection) -> Principal:
    """Development mode only: the tenant from the headers (None when neither is sent), as an admin."""
    raw = [connection.headers.get(header) for header in DEV_TENANT_HEADERS]
    tenant = None
    if any(raw):
        from entrypoints.http.dependencies import parse_uuid

        for header, value in zip(DEV_TENANT_HEADERS, raw, strict=True):
            if not value:
                raise BadRequest(f"the header {header} is required", header=header)
        ids = [parse_uuid(v or "", f"the header {h}") for h, v in zip(DEV_TENANT_HEADERS, raw, strict=True)]
        tenant = Tenant(client_account_id=ids[0], engagement_id=ids[1])
    actor = (connection.headers.get("X-Actor") or "anonymous").strip()
    return Principal(subject=actor, role=Role.ADMIN, tenant=tenant, method="dev-headers")


async def authorize(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The app-wide guard: 401 without a valid credential, 403 when the role (or kind of caller) does not fit."""
    if not needs_credential(connection.scope["path"], handler):
        return
    credential = credential_of(connection)
    if credential is not None:
        principal = await connection.app.state.container.authenticator().authenticate(credential)
    elif connection.app.state.settings.auth.dev and not platform_only(handler):
        principal = dev_principal(connection)
    else:
        raise AuthenticationFailed("this route needs a bearer token or an API key", missing=True)
    check_access(principal, handler, connection.scope["method"])
    connection.state[PRINCIPAL] = principal
    bind_log_tenant(connection, principal.tenant)


def principal_of(request: Request) -> Principal:
    principal = request.state.get(PRINCIPAL)
    if principal is None:
        raise RuntimeError(f"{request.url.path} is not behind the authorize guard")
    return principal


def _unauthenticated(request: Request, e: AuthenticationFailed) -> Response:
    challenge = REALM if e.missing else f'{REALM}, error="invalid_token", error_description="{_quoted(e.reason)}"'
    return problem(
        request, 401, "unauthenticated", "Authentication required", e.reason, {"WWW-Authenticate": challenge}
    )


def _forbidden(request: Request, e: Forbidden) -> Response:
    challenge = f'{REALM}, error="insufficient_scope"'
    return problem(
        request,
        403,
        "forbidden",
        "Role not allowed",
        str(e),
        {"WWW-Authenticate": challenge},
        role=str(e.role),
        required_role=str(e.required),
    )


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")[:200]


AUTH_EXCEPTION_HANDLERS = {AuthenticationFailed: _unauthenticated, Forbidden: _forbidden}
