"""Every ``MFO_*`` variable: its type, its bounds, its default (the settings dataclass's) and what it means.

One model per settings group (``entrypoints/settings.py``); each field is a variable (``db_pool_size`` is
``MFO_DB_POOL_SIZE``) and its ``description`` is its row in the README (``make settings-doc`` writes the tables).
Rules between variables of one group are field validators on the later one, checked only when the earlier ones are
valid, so that every problem shows in one message (ADR 0023).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator

from entrypoints.settings import (
    ApiSettings,
    AuthSettings,
    CrewAISettings,
    DatabaseSettings,
    IdempotencySettings,
    LegacySettings,
    LLMSettings,
    ObservabilitySettings,
    Settings,
    WorkerSettings,
    async_database_url,
)
from entrypoints.settings_reading import (
    BLANK_IS_A_VALUE,
    SECRET,
    InvalidSettings,
    Variables,
    gather,
    problem,
    read,
    rule_problems,
    validated_before,
)

T = TypeVar("T")


def _more_than_zero_seconds(value: float) -> float:
    if value <= 0:
        raise ValueError("must be more than 0 seconds")
    return value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _instant(value: Any) -> Any:
    """An ISO 8601 date (midnight UTC) or date and time (UTC unless it names an offset)."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be an ISO 8601 date such as 2027-06-30") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _postgresql_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        raise ValueError("must be a PostgreSQL URL (postgresql://user:password@host/database)")
    return value


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` as its user's password (replacing one it holds)."""
    parts = urlsplit(url)
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def _log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError("must be a logging level: DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


Seconds = Annotated[float, AfterValidator(_more_than_zero_seconds)]
Lowered = BeforeValidator(_lower)
Instant = Annotated[datetime, BeforeValidator(_instant)]
PostgreSQLURL = Annotated[str | None, SECRET, AfterValidator(_postgresql_url)]
Secret = Annotated[str | None, SECRET]


def shown(default: str) -> dict[str, str]:
    """How the README shows a default that is not a plain value."""
    return {"shown_default": default}


class DatabaseVariables(Variables):
    builds: ClassVar[type] = DatabaseSettings
    database_url: PostgreSQLURL = Field(
        None,
        description="PostgreSQL URL (`postgresql://user:pass@host/db`). Unset: `make run` starts a local cluster "
        "kept in `.mfo/pgdata`",
        json_schema_extra=shown("(embedded)"),
    )
    database_password: Secret = Field(
        None,
        description="the password of `MFO_DATABASE_URL`'s user (it replaces one the URL holds), so the URL itself "
        "need not be secret",
    )
    data_dir: Path = Field(DatabaseSettings.data_dir, description="where the embedded cluster lives")
    db_pool_size: int = Field(
        DatabaseSettings.pool_size, ge=1, description="the connection pool: connections kept open while idle"
    )
    db_max_overflow: int = Field(
        DatabaseSettings.max_overflow,
        ge=0,
        description="how many more connections than `MFO_DB_POOL_SIZE` a burst may open (closed again when given back)",
    )
    db_statement_timeout_ms: int = Field(
        DatabaseSettings.statement_timeout_ms,
        ge=0,
        description="PostgreSQL `statement_timeout` for every connection (past it: 503)",
    )
    db_lock_timeout_ms: int = Field(
        DatabaseSettings.lock_timeout_ms,
        ge=0,
        description="PostgreSQL `lock_timeout` for every connection (past it: 409 `flow-busy`); keep it below the "
        "statement timeout",
    )
    db_connect_timeout: int = Field(
        DatabaseSettings.connect_timeout_seconds, ge=1, description="seconds to open a connection (past it: 503)"
    )
    db_pool_timeout: int = Field(
        DatabaseSettings.pool_timeout_seconds,
        ge=1,
        description="seconds to wait for a free pooled connection (past it: 503)",
    )
    db_command_timeout: int = Field(
        DatabaseSettings.command_timeout_seconds,
        ge=1,
        description="seconds MFO waits for any one answer from PostgreSQL, for a server that stops answering (past "
        "it: 503); keep it above the statement timeout",
    )
    app_db_role: str = Field(
        DatabaseSettings.app_role,
        min_length=1,
        description="the database role requests run as (row-level security applies to it); `mfo migrate` creates it",
    )
    app_db_password: Secret = Field(
        None, description="the password `mfo migrate` gives that role", json_schema_extra=shown("the owner's")
    )
    app_database_url: PostgreSQLURL = Field(
        None,
        description="the application's own database URL; unset: `MFO_DATABASE_URL` with the role and password above",
        json_schema_extra=shown("derived"),
    )

    def settings(self) -> DatabaseSettings:
        url = self.database_url
        if url is not None and self.database_password is not None:
            url = with_password(url, self.database_password)
        return DatabaseSettings(
            url=async_database_url(url) if url else None,
            pool_size=self.db_pool_size,
            max_overflow=self.db_max_overflow,
            pool_timeout_seconds=self.db_pool_timeout,
            statement_timeout_ms=self.db_statement_timeout_ms,
            lock_timeout_ms=self.db_lock_timeout_ms,
            connect_timeout_seconds=self.db_connect_timeout,
            command_timeout_seconds=self.db_command_timeout,
            data_dir=self.data_dir,
            app_url=async_database_url(self.app_database_url) if self.app_database_url else None,
            app_role=self.app_db_role,
            app_password=self.app_db_password,
        )


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
        )


class CrewAIVariables(Variables):
    builds: ClassVar[type] = CrewAISettings
    crewai_flow_types: Annotated[str, BLANK_IS_A_VALUE] = Field(
        ",".join(CrewAISettings.flow_types),
        description="flow types whose phases run as CrewAI Flows (comma-separated, `*` for all, empty for none)",
    )

    def settings(self) -> CrewAISettings:
        return CrewAISettings(tuple(name.strip() for name in self.crewai_flow_types.split(",") if name.strip()))


LLM_VARIABLES = ("MFO_LLM_BASE_URL", "MFO_LLM_MODEL", "MFO_LLM_API_KEY")


class LLMVariables(Variables):
    builds: ClassVar[type] = LLMSettings
    llm_base_url: Annotated[str | None, AfterValidator(_http_url)] = Field(
        None,
        description="an OpenAI-compatible endpoint (`https://host/v1`): discovery's field mapping asks a CrewAI crew "
        "there ([docs/flow-types.md](docs/flow-types.md)); with `MFO_LLM_MODEL` and `MFO_LLM_API_KEY`, all three or "
        "none (none: the deterministic proposal)",
    )
    llm_model: str | None = Field(None, description="the model at that endpoint")
    llm_api_key: Secret = Field(None, validate_default=True, description="the key of that endpoint")
    llm_timeout_seconds: Seconds = Field(
        LLMSettings.timeout_seconds, description="seconds one request to that endpoint may take"
    )

    @field_validator("llm_api_key", mode="after")
    @classmethod
    def _all_three_or_none(cls, api_key: str | None, info: ValidationInfo) -> str | None:
        # a field missing from info.data was set (unset is None, always valid) but is invalid on its own
        given = {
            "MFO_LLM_BASE_URL": info.data.get("llm_base_url", "set"),
            "MFO_LLM_MODEL": info.data.get("llm_model", "set"),
            "MFO_LLM_API_KEY": api_key,
        }
        missing = [name for name, value in given.items() if value is None]
        if 0 < len(missing) < len(given):
            together = ", ".join(LLM_VARIABLES)
            raise problem(f"{', '.join(missing)} not set: {together} configure the LLM together (all three or none)")
        return api_key

    def settings(self) -> LLMSettings:
        return LLMSettings(
            base_url=self.llm_base_url,
            model=self.llm_model,
            api_key=self.llm_api_key,
            timeout_seconds=self.llm_timeout_seconds,
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


class IdempotencyVariables(Variables):
    builds: ClassVar[type] = IdempotencySettings
    idempotency_ttl_seconds: int = Field(
        IdempotencySettings.ttl_seconds, ge=1, description="how long an `Idempotency-Key`'s answer is kept for retries"
    )
    idempotency_wait_ms: int = Field(
        IdempotencySettings.wait_ms,
        ge=0,
        description="how long a retry waits for the first request with its key (then 409); must be shorter than "
        "`MFO_DB_STATEMENT_TIMEOUT_MS` (start-up refuses otherwise)",
    )
    idempotency_purge_interval_seconds: int = Field(
        IdempotencySettings.purge_interval_seconds,
        ge=0,
        description="how often the server deletes expired keys (`0`: never; `mfo purge-keys` does it once)",
    )

    def settings(self) -> IdempotencySettings:
        return IdempotencySettings(
            ttl_seconds=self.idempotency_ttl_seconds,
            wait_ms=self.idempotency_wait_ms,
            purge_interval_seconds=self.idempotency_purge_interval_seconds,
        )


class WorkerVariables(Variables):
    builds: ClassVar[type] = WorkerSettings
    readme_table: ClassVar[str] = "workers"

    worker_in_serve: bool = Field(
        WorkerSettings.in_serve,
        description="`mfo serve`'s runner also claims due work; `false` leaves it to `mfo worker` (the server still "
        "runs the phases its API claims)",
    )
    worker_lease_seconds: Seconds = Field(
        WorkerSettings.lease_seconds,
        description="an attempt whose lease was not renewed for this long lost its runner; another runner attempts "
        "the phase again",
    )
    worker_heartbeat_seconds: Seconds = Field(
        WorkerSettings.heartbeat_seconds,
        validate_default=True,
        description="how often a runner renews its leases and notices cancelled flows; shorter than the lease",
    )
    worker_concurrency: int = Field(
        WorkerSettings.concurrency, ge=1, description="attempts of due work one runner runs at once"
    )
    worker_tenant_limit: int = Field(
        WorkerSettings.tenant_limit,
        ge=1,
        description="attempts one tenant may hold at once before runners claim no more of its due work",
    )
    worker_poll_seconds: Seconds = Field(
        WorkerSettings.poll_seconds, description="how long an idle runner waits between looks for due work"
    )

    @field_validator("worker_heartbeat_seconds", mode="after")
    @classmethod
    def _heartbeat_within_the_lease(cls, heartbeat: float, info: ValidationInfo) -> float:
        if validated_before(info, "worker_lease_seconds") and heartbeat >= info.data["worker_lease_seconds"]:
            lease = info.data["worker_lease_seconds"]
            raise problem(
                "MFO_WORKER_HEARTBEAT_SECONDS must be positive and shorter than MFO_WORKER_LEASE_SECONDS "
                f"({heartbeat:g} s, lease {lease:g} s)"
            )
        return heartbeat

    def settings(self) -> WorkerSettings:
        return WorkerSettings(
            in_serve=self.worker_in_serve,
            lease_seconds=self.worker_lease_seconds,
            heartbeat_seconds=self.worker_heartbeat_seconds,
            poll_seconds=self.worker_poll_seconds,
            concurrency=self.worker_concurrency,
            tenant_limit=self.worker_tenant_limit,
        )


class ObservabilityVariables(Variables):
    builds: ClassVar[type] = ObservabilitySettings
    readme_table: ClassVar[str] = "monitoring"

    log_format: Annotated[Literal["json", "text"], Lowered] = Field("json", description="`json` lines or `text`")
    log_level: Annotated[str, AfterValidator(_log_level)] = Field(
        ObservabilitySettings.log_level, description="level of MFO's and uvicorn's loggers"
    )
    otel_exporter: Annotated[Literal["none", "console", "otlp"], Lowered] = Field(
        "none", description="`none`, `console` or `otlp`"
    )
    otel_service_name: str = Field(
        ObservabilitySettings.otel_service_name, description="the `service.name` resource attribute of the spans"
    )
    audit_interval_seconds: float = Field(
        ObservabilitySettings.audit_interval_seconds,
        ge=0,
        description="seconds between periodic audits; `0` turns them off",
    )
    audit_findings_limit: int = Field(
        ObservabilitySettings.audit_findings_limit,
        ge=1,
        description="most inconsistent flows listed in a stored run and in the alert",
    )
    alert_webhook_url: Annotated[str | None, SECRET, AfterValidator(_http_url)] = Field(
        None,
        description="where drift alerts are POSTed; unset: no alert (the log line and the gauge remain)",
    )
    alert_attempts: int = Field(ObservabilitySettings.alert_attempts, ge=1, description="attempts per alert")
    alert_timeout_seconds: Seconds = Field(
        ObservabilitySettings.alert_timeout_seconds, description="timeout of each attempt"
    )
    alert_backoff_seconds: float = Field(
        ObservabilitySettings.alert_backoff_seconds,
        ge=0,
        description="wait before the second attempt, doubled before each next one",
    )
    metrics_cache_seconds: float = Field(
        ObservabilitySettings.metrics_cache_seconds,
        ge=0,
        description="how long `/metrics` reuses the gauges it read from PostgreSQL, per process (`0`: read at every "
        "scrape)",
    )

    def settings(self) -> ObservabilitySettings:
        return ObservabilitySettings(
            log_format=self.log_format,
            log_level=self.log_level,
            otel_exporter=self.otel_exporter,
            otel_service_name=self.otel_service_name,
            audit_interval_seconds=self.audit_interval_seconds,
            audit_findings_limit=self.audit_findings_limit,
            alert_webhook_url=self.alert_webhook_url,
            alert_attempts=self.alert_attempts,
            alert_timeout_seconds=self.alert_timeout_seconds,
            alert_backoff_seconds=self.alert_backoff_seconds,
            metrics_cache_seconds=self.metrics_cache_seconds,
        )


GROUPS: tuple[type[Variables], ...] = (
    DatabaseVariables,
    ApiVariables,
    CrewAIVariables,
    LLMVariables,
    LegacyVariables,
    AuthVariables,
    IdempotencyVariables,
    WorkerVariables,
    ObservabilityVariables,
)
"""Every group of variables, in the order the README's tables list them."""


def settings_from_env(kind: type[T]) -> T:
    """One settings dataclass read from its variables (:class:`InvalidSettings` names each bad one)."""
    (group,) = [group for group in GROUPS if group.builds is kind]
    return read(group).settings()  # type: ignore[no-any-return]


class RulesAcrossGroups(Variables):
    """Rules between variables of different groups. Read apart from the groups, so a rule is checked whenever its
    own variables are valid, whatever else is wrong; each variable's own problems are its group's to report."""

    db_statement_timeout_ms: int = Field(DatabaseSettings.statement_timeout_ms, ge=0)
    idempotency_wait_ms: int = Field(IdempotencySettings.wait_ms, ge=0, validate_default=True)

    @field_validator("idempotency_wait_ms", mode="after")
    @classmethod
    def _wait_within_the_statement_timeout(cls, wait: int, info: ValidationInfo) -> int:
        if validated_before(info, "db_statement_timeout_ms") and wait >= info.data["db_statement_timeout_ms"]:
            raise problem(
                f"MFO_IDEMPOTENCY_WAIT_MS ({wait}) must be shorter than MFO_DB_STATEMENT_TIMEOUT_MS "
                f"({info.data['db_statement_timeout_ms']}): a retry waiting for the first request would otherwise "
                "end as a timeout (503) instead of 409 idempotency-key-in-progress"
            )
        return wait


def all_settings_from_env() -> Settings:
    """Every group read at once; :class:`InvalidSettings` lists every problem of every group and every rule."""
    values, problems = gather(*GROUPS)
    problems += rule_problems(RulesAcrossGroups)
    if problems:
        raise InvalidSettings(problems)
    built = {group: value.settings() for group, value in values.items()}
    return Settings(
        database=built[DatabaseVariables],
        api=built[ApiVariables],
        legacy=built[LegacyVariables],
        crewai=built[CrewAIVariables],
        auth=built[AuthVariables],
        observability=built[ObservabilityVariables],
        idempotency=built[IdempotencyVariables],
        worker=built[WorkerVariables],
        llm=built[LLMVariables],
    )
