"""JWT bearer tokens: HS256 with a shared secret or RS256 with a key pair (PyJWT)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt

from domain.auth import AuthenticationFailed, Principal, Role
from domain.echo import excerpt
from domain.events import Tenant

TENANT_CLAIMS = ("client_account_id", "engagement_id")
REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud", "role"]
"""Every token's; a tenant role's token also needs ``TENANT_CLAIMS``, a platform token must have none of them."""
VERIFIED_CACHE_SIZE = 4096
NUMERIC_DATE_CLAIMS = ("exp", "iat", "nbf")
LATEST_NUMERIC_DATE = 253_402_300_799
"""9999-12-31T23:59:59Z in seconds since the epoch: no token's date lies past it (nor before 1970)."""


class JwtCodec:
    """Verifies tokens signed with a configured key, and mints them when it holds a signing key.

    The algorithm is chosen by the key configured, never by the token: a token whose header names an algorithm
    without a configured key is refused, so an RS256 public key can never be used as an HS256 secret.

    A token verified once is remembered (the last ``VERIFIED_CACHE_SIZE``, with its expiry): a client sends the same
    token with every request, and verifying it again would spend CPU on every request only to find the same
    signature and claims (docs/performance.md). Only its expiry can change, and it is checked on every use, with
    the same leeway.
    """

    def __init__(
        self,
        *,
        secret: str | None = None,
        public_key: str | None = None,
        private_key: str | None = None,
        issuer: str = "mfo",
        audience: str = "mfo-api",
        leeway_seconds: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verify_keys: dict[str, Any] = {}
        if secret:
            self._verify_keys["HS256"] = secret
        if public_key:
            self._verify_keys["RS256"] = public_key
        self._secret = secret
        self._private_key = private_key
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._clock = clock
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return bool(self._verify_keys)

    def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires_at = remembered
            if self._clock() > expires_at + self._leeway:
                del self._verified[token]
                raise AuthenticationFailed("the bearer token has expired")
            self._verified.move_to_end(token)
            return principal
        principal, expires_at = self._decode(token)
        self._verified[token] = (principal, expires_at)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        """The token's principal and expiry (seconds since the epoch), or AuthenticationFailed saying why not."""
        if not self._verify_keys:
            raise AuthenticationFailed("bearer tokens are not accepted: no JWT key is configured")
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as error:
            raise AuthenticationFailed(f"the bearer token is malformed: {excerpt(error)}") from None
        key = self._verify_keys.get(algorithm) if isinstance(algorithm, str) else None
        if key is None:
            accepted = ", ".join(sorted(self._verify_keys))
            raise AuthenticationFailed(
                f"tokens signed with {excerpt(repr(algorithm))} are not accepted (only {accepted})"
            )
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("the bearer token has expired") from None
        except jwt.PyJWTError as error:
            raise AuthenticationFailed(f"the bearer token is not valid: {excerpt(error)}") from None
        except (TypeError, ValueError, OverflowError):  # a claim PyJWT's own checks choke on
            raise AuthenticationFailed("the bearer token is not valid: a claim has an unusable value") from None
        for name in NUMERIC_DATE_CLAIMS:
            if name in claims:
                check_numeric_date(name, claims[name])
        return principal_from_claims(claims), float(claims["exp"])

    def mint(
        self, tenant: Tenant | None, role: Role, subject: str, ttl_seconds: int = 3600, now: datetime | None = None
    ) -> str:
        """A signed token: RS256 when a private key is configured, else HS256. ``tenant`` is None exactly for the
        ``platform`` role."""
        if (tenant is None) != (role is Role.PLATFORM):
            raise ValueError("a platform token names no tenant; every other role's token names one")
        issued = now or datetime.now(UTC)
        claims = {
            "sub": subject,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": issued,
            "exp": issued + timedelta(seconds=ttl_seconds),
            "role": str(role),
        }
        if tenant is not None:
            claims.update(client_account_id=str(tenant.client_account_id), engagement_id=str(tenant.engagement_id))
        if self._private_key:
            return jwt.encode(claims, self._private_key, algorithm="RS256")
        if self._secret:
            return jwt.encode(claims, self._secret, algorithm="HS256")
        raise RuntimeError("no signing key: set MFO_JWT_SECRET (HS256) or MFO_JWT_PRIVATE_KEY_FILE (RS256)")


def check_numeric_date(name: str, value: Any) -> None:
    """A JWT NumericDate (RFC 7519): a JSON number of seconds, here from 1970 to the end of year 9999. A boolean, a
    string, an infinite or enormous number is refused (PyJWT converts some of them with ``int``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= LATEST_NUMERIC_DATE:
        raise AuthenticationFailed(
            f"the token's {name} must be a number of seconds since 1970, at most {LATEST_NUMERIC_DATE}"
        )


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        role = Role(claims["role"])
    except ValueError:
        known = ", ".join(Role)
        raise AuthenticationFailed(
            f"the token's role must be one of {known}, not {excerpt(repr(claims['role']))}"
        ) from None
    if role is Role.PLATFORM:
        return platform_principal(claims)
    missing = [claim for claim in TENANT_CLAIMS if claim not in claims]
    if missing:
        raise AuthenticationFailed(f"the token is missing the {missing[0]!r} claim (a {role} token names its tenant)")
    try:
        tenant = Tenant(UUID(str(claims["client_account_id"])), UUID(str(claims["engagement_id"])))
    except ValueError:
        raise AuthenticationFailed("the token's client_account_id and engagement_id must be UUIDs") from None
    return Principal(subject=_subject(claims), role=role, tenant=tenant, method="jwt")


def platform_principal(claims: dict[str, Any]) -> Principal:
    """The platform operator's token: no tenant claims at all (a platform token naming a tenant is refused)."""
    if any(claim in claims for claim in TENANT_CLAIMS):
        raise AuthenticationFailed("a platform token must not name a client_account_id or engagement_id")
    return Principal(subject=_subject(claims), role=Role.PLATFORM, tenant=None, method="jwt")


def _subject(claims: dict[str, Any]) -> str:
    subject = str(claims["sub"]).strip()
    if not subject or len(subject) > 200:
        raise AuthenticationFailed("the token's sub must have 1 to 200 characters")
    return subject
