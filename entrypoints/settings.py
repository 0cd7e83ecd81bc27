"""Typed settings: one frozen dataclass per concern, each with its defaults; ``from_env`` reads them from the
``MFO_*`` variables (``entrypoints/environment/`` declares those, with pydantic-settings, and validates them all
at once; ADR 0023). Tests and callers build them directly, with keyword arguments."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def _from_env(kind: type[T]) -> T:
    # entrypoints.environment takes its defaults from the dataclasses below: imported when first needed, not at import
    from entrypoints.environment import settings_from_env

    return settings_from_env(kind)


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
    app_password: str | None = field(default=None, repr=False)
    """Set on ``app_role`` by ``mfo migrate``; None: the owner's password from ``url``."""
    pgbouncer: bool = False
    """The URLs lead to PgBouncer in transaction pooling mode (ADR 0017, docs/operations.md, "Many replicas through
    PgBouncer")."""
    listen_url: str | None = None
    """Where a runner LISTENs for due work behind PgBouncer (PostgreSQL itself, as the owner); None: it polls."""

    @classmethod
    def from_env(cls) -> DatabaseSettings:
        return _from_env(cls)


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
    shutdown_grace_seconds: float = 5.0
    """After SIGTERM, how long ``mfo serve`` answers ``/readyz`` 503 while still serving, before it drains."""

    @classmethod
    def from_env(cls) -> ApiSettings:
        return _from_env(cls)


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
        return _from_env(cls)


@dataclass(frozen=True)
class CrewAISettings:
    """Which flow types run their phases through the CrewAI bridge (``*`` for all)."""

    flow_types: tuple[str, ...] = ("discovery",)

    @classmethod
    def from_env(cls) -> CrewAISettings:
        return _from_env(cls)

    def bridges(self, flow_type: str) -> bool:
        return "*" in self.flow_types or flow_type in self.flow_types


DEV_JWT_SECRET = "mfo-dev-only-secret-never-use-in-production"


@dataclass(frozen=True)
class AuthSettings:
    """How callers of ``/api/v1`` authenticate (docs/security.md).

    ``production`` (the default): a JWT bearer token (HS256 with ``jwt_secret``, RS256 with ``jwt_public_key``) or
    an API key; the tenant and role come from the credential. ``dev``: the same, and a request without credentials
    gets its tenant from the ``X-Client-Account-ID``/``X-Engagement-ID`` headers with the admin role.
    """

    mode: str = "production"
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_public_key: str | None = None
    jwt_private_key: str | None = field(default=None, repr=False)
    issuer: str = "mfo"
    audience: str = "mfo-api"
    token_ttl_seconds: int = 3600
    leeway_seconds: int = 30

    @classmethod
    def from_env(cls) -> AuthSettings:
        return _from_env(cls)

    @property
    def dev(self) -> bool:
        return self.mode == "dev"

    @property
    def hmac_secret(self) -> str | None:
        """The HS256 secret; in dev mode a fixed, public one when none is configured."""
        if self.jwt_secret:
            return self.jwt_secret
        return DEV_JWT_SECRET if self.dev else None


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
        return _from_env(cls)


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
        return _from_env(cls)


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
        return _from_env(cls)


@dataclass(frozen=True)
class IdempotencySettings:
    """``Idempotency-Key``: how long an answer is kept for retries, how long a retry waits for the first request
    still running (then 409), and how often expired keys are deleted (0: never, from the server)."""

    ttl_seconds: int = 86_400
    wait_ms: int = 10_000
    purge_interval_seconds: int = 600

    @classmethod
    def from_env(cls) -> IdempotencySettings:
        return _from_env(cls)


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
        """Every group read from the environment, or one :class:`SystemExit` naming every bad variable and why."""
        from entrypoints.environment import all_settings_from_env

        return all_settings_from_env()

    def with_database_url(self, url: str) -> Settings:
        return replace(self, database=replace(self.database, url=async_database_url(url)))
