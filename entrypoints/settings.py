"""Typed settings, each read once from the environment with a default."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None


def async_database_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` URLs; MFO always talks asyncpg. Several hosts may be named in
    any spelling libpq, asyncpg or SQLAlchemy knows (adapters/persistence/database_url.py reads them)."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise SystemExit(f"MFO needs a PostgreSQL URL (postgresql://...), not {url.split(':', 1)[0]}://...")


@dataclass(frozen=True)
class DatabaseSettings:
    url: str | None = None
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout_seconds: int = 10
    statement_timeout_ms: int = 30_000
    lock_timeout_ms: int = 5_000
    connect_timeout_seconds: int = 5
    command_timeout_seconds: int = 35  # client side, a backstop for a server that stops answering
    data_dir: Path = Path(".mfo")
    app_url: str | None = None
    """The application's own login (row-level security applies to it); None: ``url`` with ``app_role`` as user."""
    app_role: str = "mfo_app"
    app_password: str | None = None
    """Set on ``app_role`` by ``mfo migrate``; None: the owner's password from ``url``."""

    @classmethod
    def from_env(cls) -> DatabaseSettings:
        url = os.environ.get("MFO_DATABASE_URL") or None
        app_url = os.environ.get("MFO_APP_DATABASE_URL") or None
        return cls(
            url=async_database_url(url) if url else None,
            pool_size=_int("MFO_DB_POOL_SIZE", cls.pool_size),
            max_overflow=_int("MFO_DB_MAX_OVERFLOW", cls.max_overflow),
            pool_timeout_seconds=_int("MFO_DB_POOL_TIMEOUT", cls.pool_timeout_seconds),
            statement_timeout_ms=_int("MFO_DB_STATEMENT_TIMEOUT_MS", cls.statement_timeout_ms),
            lock_timeout_ms=_int("MFO_DB_LOCK_TIMEOUT_MS", cls.lock_timeout_ms),
            connect_timeout_seconds=_int("MFO_DB_CONNECT_TIMEOUT", cls.connect_timeout_seconds),
            command_timeout_seconds=_int("MFO_DB_COMMAND_TIMEOUT", cls.command_timeout_seconds),
            data_dir=Path(os.environ.get("MFO_DATA_DIR", str(cls.data_dir))),
            app_url=async_database_url(app_url) if app_url else None,
            app_role=os.environ.get("MFO_APP_DB_ROLE") or cls.app_role,
            app_password=os.environ.get("MFO_APP_DB_PASSWORD") or None,
        )


@dataclass(frozen=True)
class ApiSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1_048_576
    default_page_size: int = 50
    max_page_size: int = 200
    max_header_count: int = 100
    max_header_bytes: int = 16_384
    """Request headers: at most this many, of at most this many bytes together (names and values); past either: 431."""
    debug: bool = False

    @classmethod
    def from_env(cls) -> ApiSettings:
        return cls(
            host=os.environ.get("MFO_HOST", cls.host),
            port=_int("MFO_PORT", cls.port),
            max_body_bytes=_int("MFO_MAX_BODY_BYTES", cls.max_body_bytes),
            default_page_size=_int("MFO_DEFAULT_PAGE_SIZE", cls.default_page_size),
            max_page_size=_int("MFO_MAX_PAGE_SIZE", cls.max_page_size),
            max_header_count=_positive_int("MFO_MAX_HEADER_COUNT", cls.max_header_count),
            max_header_bytes=_positive_int("MFO_MAX_HEADER_BYTES", cls.max_header_bytes),
            debug=os.environ.get("MFO_DEBUG", "") == "1",
        )


def _positive_int(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise SystemExit(f"{name} must be at least 1, not {value}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SystemExit(f"{name} must be true or false (1/0, yes/no, on/off), not {raw!r}")


def _instant(name: str, default: datetime) -> datetime:
    """An ISO 8601 date (midnight UTC) or date and time (UTC unless it names an offset)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise SystemExit(f"{name} must be an ISO 8601 date such as 2027-06-30, not {raw!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class LegacySettings:
    """The legacy ``/api/v1/discovery/flows`` and ``/api/v1/unified-discovery/flows`` routes.

    ``deprecated_at`` goes out in the ``Deprecation`` header (RFC 9745), ``sunset`` in ``Sunset`` (RFC 8594);
    with ``enabled`` false every legacy route answers 410 Gone.
    """

    enabled: bool = True
    deprecated_at: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    sunset: datetime = datetime(2027, 6, 30, tzinfo=UTC)

    @classmethod
    def from_env(cls) -> LegacySettings:
        return cls(
            enabled=_bool("MFO_LEGACY_ENABLED", cls.enabled),
            deprecated_at=_instant("MFO_LEGACY_DEPRECATED_AT", cls.deprecated_at),
            sunset=_instant("MFO_LEGACY_SUNSET", cls.sunset),
        )


@dataclass(frozen=True)
class CrewAISettings:
    """Which flow types run their phases through the CrewAI bridge (``*`` for all)."""

    flow_types: tuple[str, ...] = ("discovery",)

    @classmethod
    def from_env(cls) -> CrewAISettings:
        raw = os.environ.get("MFO_CREWAI_FLOW_TYPES")
        if raw is None:
            return cls()
        return cls(flow_types=tuple(name.strip() for name in raw.split(",") if name.strip()))

    def bridges(self, flow_type: str) -> bool:
        return "*" in self.flow_types or flow_type in self.flow_types


AUTH_MODES = ("production", "dev")
DEV_JWT_SECRET = "mfo-dev-only-secret-never-use-in-production"


def _text_or_file(name: str) -> str | None:
    """The value of ``name``, or the contents of the file ``name_FILE`` names."""
    raw = os.environ.get(name)
    if raw:
        return raw
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text()
        except OSError as error:
            raise SystemExit(f"{name}_FILE: cannot read {path}: {error.strerror}") from None
    return None


@dataclass(frozen=True)
class AuthSettings:
    """How callers of ``/api/v1`` authenticate (docs/security.md).

    ``production`` (the default): a JWT bearer token (HS256 with ``jwt_secret``, RS256 with ``jwt_public_key``) or
    an API key; the tenant and role come from the credential. ``dev``: the same, and a request without credentials
    gets its tenant from the ``X-Client-Account-ID``/``X-Engagement-ID`` headers with the admin role.
    """

    mode: str = "production"
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_private_key: str | None = None
    issuer: str = "mfo"
    audience: str = "mfo-api"
    token_ttl_seconds: int = 3600
    leeway_seconds: int = 30

    @classmethod
    def from_env(cls) -> AuthSettings:
        mode = os.environ.get("MFO_AUTH_MODE", cls.mode).strip().lower() or cls.mode
        if mode not in AUTH_MODES:
            raise SystemExit(f"MFO_AUTH_MODE must be one of {', '.join(AUTH_MODES)}, not {mode!r}")
        return cls(
            mode=mode,
            jwt_secret=os.environ.get("MFO_JWT_SECRET") or None,
            jwt_public_key=_text_or_file("MFO_JWT_PUBLIC_KEY"),
            jwt_private_key=_text_or_file("MFO_JWT_PRIVATE_KEY"),
            issuer=os.environ.get("MFO_JWT_ISSUER", cls.issuer),
            audience=os.environ.get("MFO_JWT_AUDIENCE", cls.audience),
            token_ttl_seconds=_int("MFO_TOKEN_TTL_SECONDS", cls.token_ttl_seconds),
            leeway_seconds=_int("MFO_JWT_LEEWAY_SECONDS", cls.leeway_seconds),
        )

    @property
    def dev(self) -> bool:
        return self.mode == "dev"

    @property
    def hmac_secret(self) -> str | None:
        """The HS256 secret; in dev mode a fixed, public one when none is configured."""
        if self.jwt_secret:
            return self.jwt_secret
        return DEV_JWT_SECRET if self.dev else None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {raw!r}") from None


@dataclass(frozen=True)
class ObservabilitySettings:
    """Logs, traces, the periodic consistency audit and its drift alert (README, "Monitoring")."""

    log_format: str = "json"
    log_level: str = "INFO"
    otel_exporter: str = "none"
    otel_service_name: str = "mfo"
    audit_interval_seconds: float = 600.0
    audit_findings_limit: int = 100
    alert_webhook_url: str | None = None
    alert_attempts: int = 3
    alert_timeout_seconds: float = 5.0
    alert_backoff_seconds: float = 1.0
    metrics_cache_seconds: float = 5.0
    """How long ``/metrics`` reuses the gauges it read from PostgreSQL (0: read at every scrape)."""

    @classmethod
    def from_env(cls) -> ObservabilitySettings:
        log_format = os.environ.get("MFO_LOG_FORMAT", cls.log_format).strip().lower()
        if log_format not in {"json", "text"}:
            raise SystemExit(f"MFO_LOG_FORMAT must be json or text, not {log_format!r}")
        return cls(
            log_format=log_format,
            log_level=os.environ.get("MFO_LOG_LEVEL", cls.log_level).strip().upper(),
            otel_exporter=os.environ.get("MFO_OTEL_EXPORTER", cls.otel_exporter).strip().lower() or "none",
            otel_service_name=os.environ.get("MFO_OTEL_SERVICE_NAME", cls.otel_service_name),
            audit_interval_seconds=_float("MFO_AUDIT_INTERVAL_SECONDS", cls.audit_interval_seconds),
            audit_findings_limit=_int("MFO_AUDIT_FINDINGS_LIMIT", cls.audit_findings_limit),
            alert_webhook_url=os.environ.get("MFO_ALERT_WEBHOOK_URL") or None,
            alert_attempts=_int("MFO_ALERT_ATTEMPTS", cls.alert_attempts),
            alert_timeout_seconds=_float("MFO_ALERT_TIMEOUT_SECONDS", cls.alert_timeout_seconds),
            alert_backoff_seconds=_float("MFO_ALERT_BACKOFF_SECONDS", cls.alert_backoff_seconds),
            metrics_cache_seconds=_not_negative("MFO_METRICS_CACHE_SECONDS", cls.metrics_cache_seconds),
        )


def _not_negative(name: str, default: float) -> float:
    value = _float(name, default)
    if value < 0:
        raise SystemExit(f"{name} must be 0 or more seconds, not {value}")
    return value


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise SystemExit(f"{name} must be more than 0 seconds, not {raw!r}")
    return value


@dataclass(frozen=True)
class WorkerSettings:
    """Phase execution (ADR 0015): every ``mfo serve`` and ``mfo worker`` process has one runner. A worker's runner
    claims due work (auto-run flows' next phases, attempts due again, attempts whose lease expired); a server's
    runs the phases its API claims, and claims due work too unless ``in_serve`` is off."""

    in_serve: bool = True
    lease_seconds: float = 30.0
    heartbeat_seconds: float = 2.0
    poll_seconds: float = 0.5
    concurrency: int = 10
    tenant_limit: int = 5

    @classmethod
    def from_env(cls) -> WorkerSettings:
        settings = cls(
            in_serve=_bool("MFO_WORKER_IN_SERVE", cls.in_serve),
            lease_seconds=_seconds("MFO_WORKER_LEASE_SECONDS", cls.lease_seconds),
            heartbeat_seconds=_seconds("MFO_WORKER_HEARTBEAT_SECONDS", cls.heartbeat_seconds),
            poll_seconds=_seconds("MFO_WORKER_POLL_SECONDS", cls.poll_seconds),
            concurrency=_int("MFO_WORKER_CONCURRENCY", cls.concurrency),
            tenant_limit=_int("MFO_WORKER_TENANT_LIMIT", cls.tenant_limit),
        )
        if settings.concurrency < 1 or settings.tenant_limit < 1:
            raise SystemExit("MFO_WORKER_CONCURRENCY and MFO_WORKER_TENANT_LIMIT must be at least 1")
        if not 0 < settings.heartbeat_seconds < settings.lease_seconds:
            raise SystemExit(
                "MFO_WORKER_HEARTBEAT_SECONDS must be positive and shorter than MFO_WORKER_LEASE_SECONDS "
                f"({settings.heartbeat_seconds:g} s, lease {settings.lease_seconds:g} s)"
            )
        return settings


LLM_VARIABLES = ("MFO_LLM_BASE_URL", "MFO_LLM_MODEL", "MFO_LLM_API_KEY")


@dataclass(frozen=True)
class LLMSettings:
    """The OpenAI-compatible endpoint a CrewAI crew asks for discovery's field mapping (docs/flow-types.md): its
    base URL, model and API key, all three or none (none: the deterministic proposal), and how long one request
    may take."""

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_seconds: float = 60.0

    @classmethod
    def from_env(cls) -> LLMSettings:
        values = {name: os.environ.get(name, "").strip() or None for name in LLM_VARIABLES}
        missing = [name for name, value in values.items() if value is None]
        if 0 < len(missing) < len(values):
            together = ", ".join(LLM_VARIABLES)
            raise SystemExit(f"{', '.join(missing)} not set: {together} configure the LLM together (all three or none)")
        base_url = values["MFO_LLM_BASE_URL"]
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise SystemExit(f"MFO_LLM_BASE_URL must be an http:// or https:// URL, not {base_url!r}")
        return cls(
            base_url=base_url,
            model=values["MFO_LLM_MODEL"],
            api_key=values["MFO_LLM_API_KEY"],
            timeout_seconds=_seconds("MFO_LLM_TIMEOUT_SECONDS", cls.timeout_seconds),
        )


@dataclass(frozen=True)
class IdempotencySettings:
    """``Idempotency-Key``: how long an answer is kept for retries, how long a retry waits for the first request
    still running (then 409), and how often expired keys are deleted (0: never, from the server)."""

    ttl_seconds: int = 86_400
    wait_ms: int = 10_000
    purge_interval_seconds: int = 600

    @classmethod
    def from_env(cls) -> IdempotencySettings:
        return cls(
            ttl_seconds=_int("MFO_IDEMPOTENCY_TTL_SECONDS", cls.ttl_seconds),
            wait_ms=_int("MFO_IDEMPOTENCY_WAIT_MS", cls.wait_ms),
            purge_interval_seconds=_int("MFO_IDEMPOTENCY_PURGE_INTERVAL_SECONDS", cls.purge_interval_seconds),
        )


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    legacy: LegacySettings = field(default_factory=LegacySettings)
    crewai: CrewAISettings = field(default_factory=CrewAISettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    idempotency: IdempotencySettings = field(default_factory=IdempotencySettings)
    flow_type_group: str = "mfo.flow_types"
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)

    @classmethod
    def from_env(cls) -> Settings:
        settings = cls._read_env()
        if settings.idempotency.wait_ms >= settings.database.statement_timeout_ms:
            raise SystemExit(
                f"MFO_IDEMPOTENCY_WAIT_MS ({settings.idempotency.wait_ms}) must be shorter than "
                f"MFO_DB_STATEMENT_TIMEOUT_MS ({settings.database.statement_timeout_ms}): a retry waiting for the "
                "first request would otherwise end as a timeout (503) instead of 409 idempotency-key-in-progress"
            )
        return settings

    @classmethod
    def _read_env(cls) -> Settings:
        return cls(
            database=DatabaseSettings.from_env(),
            api=ApiSettings.from_env(),
            legacy=LegacySettings.from_env(),
            crewai=CrewAISettings.from_env(),
            auth=AuthSettings.from_env(),
            observability=ObservabilitySettings.from_env(),
            worker=WorkerSettings.from_env(),
            idempotency=IdempotencySettings.from_env(),
            llm=LLMSettings.from_env(),
        )

    def with_database_url(self, url: str) -> Settings:
        from dataclasses import replace

        return replace(self, database=replace(self.database, url=async_database_url(url)))
