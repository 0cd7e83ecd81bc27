"""The API's variables: where it listens, its limits, who may call it, and its legacy routes."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from entrypoints.environment.values import (
    Instant,
    Lowered,
    Secret,
)
from entrypoints.settings import (
    ApiSettings,
    AuthSettings,
    LegacySettings,
)
from entrypoints.settings_reading import Variables


class ApiVariables(Variables):
    builds: ClassVar[type] = ApiSettings

    host: str = Field(ApiSettings.host, min_length=1, description="the address the API listens on")
    port: int = Field(ApiSettings.port, ge=0, le=65535, description="the port the API listens on")
    max_body_bytes: int = Field(
        ApiSettings.max_body_bytes, ge=1, description="largest accepted request body (bigger: 413)"
    )
    default_page_size: int = Field(
        ApiSettings.default_page_size, ge=1, description="list page size when a request names no `limit`"
    )
    max_page_size: int = Field(ApiSettings.max_page_size, ge=1, description="largest `limit` of a list (bigger: 400)")
    max_header_count: int = Field(
        ApiSettings.max_header_count, ge=1, description="most request header fields (past it: 431)"
    )
    max_header_bytes: int = Field(
        ApiSettings.max_header_bytes,
        ge=1,
        description="most bytes of the request headers' names and values together (past it: 431)",
    )
    debug: bool = Field(
        ApiSettings.debug, description="Litestar's debug mode (tracebacks in error answers): for development only"
    )

    shutdown_grace_seconds: float = Field(
        ApiSettings.shutdown_grace_seconds,
        ge=0,
        description="after SIGTERM, how long `mfo serve` answers `/readyz` 503 while still serving, before it stops "
        "accepting and drains ([Health](#health-liveness-and-readiness)); `0`: drain at once",
    )

    def settings(self) -> ApiSettings:
        return ApiSettings(
            host=self.host,
            port=self.port,
            max_body_bytes=self.max_body_bytes,
            default_page_size=self.default_page_size,
            max_page_size=self.max_page_size,
            max_header_count=self.max_header_count,
            max_header_bytes=self.max_header_bytes,
            debug=self.debug,
            shutdown_grace_seconds=self.shutdown_grace_seconds,
        )


class AuthVariables(Variables):
    builds: ClassVar[type] = AuthSettings

    auth_mode: Annotated[Literal["production", "dev"], Lowered] = Field(
        "production",
        description="`production`: every `/api/v1` route needs a token or API key; `dev` (what `make run` uses) "
        "also trusts the tenant headers, and logs a warning",
    )
    jwt_secret: Secret = Field(
        None,
        description="HS256 secret for bearer tokens (dev mode falls back to a fixed, public development secret)",
    )
    jwt_public_key: Secret = Field(None, description="PEM public key: RS256 bearer tokens are accepted")
    jwt_private_key: Secret = Field(
        None, description="PEM private key `mfo token` signs RS256 tokens with (not needed by the server)"
    )
    jwt_issuer: str = Field(AuthSettings.issuer, description="the `iss` every token must carry")
    jwt_audience: str = Field(AuthSettings.audience, description="the `aud` every token must carry")
    token_ttl_seconds: int = Field(
        AuthSettings.token_ttl_seconds, ge=1, description="lifetime of the tokens `mfo token` mints"
    )
    jwt_leeway_seconds: int = Field(
        AuthSettings.leeway_seconds, ge=0, description="clock skew allowed on a token's `exp`"
    )

    def settings(self) -> AuthSettings:
        return AuthSettings(
            mode=self.auth_mode,
            jwt_secret=self.jwt_secret,
            jwt_public_key=self.jwt_public_key,
            jwt_private_key=self.jwt_private_key,
            issuer=self.jwt_issuer,
            audience=self.jwt_audience,
            token_ttl_seconds=self.token_ttl_seconds,
            leeway_seconds=self.jwt_leeway_seconds,
        )


class LegacyVariables(Variables):
    builds: ClassVar[type] = LegacySettings

    legacy_enabled: bool = Field(
        LegacySettings.enabled,
        description="serve the legacy discovery routes; `false`: they answer 410 Gone naming the successor",
    )
    legacy_deprecated_at: Instant = Field(
        LegacySettings.deprecated_at,
        description="the legacy routes' `Deprecation` header (an ISO 8601 date, or date and time)",
    )
    legacy_sunset: Instant = Field(LegacySettings.sunset, description="the legacy routes' `Sunset` header")

    def settings(self) -> LegacySettings:
        return LegacySettings(
            enabled=self.legacy_enabled, deprecated_at=self.legacy_deprecated_at, sunset=self.legacy_sunset
        )
