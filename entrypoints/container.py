"""The composition root: the one place where adapters meet the application."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from dependency_injector import containers, providers
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from adapters.auth import CredentialAuthenticator, JwtCodec, SqlApiKeyStore
from adapters.clock import SystemClock
from adapters.crewai_bridge import through_crewai
from adapters.flow_types.child_table import CHILD_TABLES
from adapters.observability.gauge_cache import CachedGauges
from adapters.observability.logs import install_json_handler, log_context, set_log_fields
from adapters.observability.metrics import MfoMetrics
from adapters.observability.observer import TelemetryObserver
from adapters.observability.scrape import DatabaseGauges
from adapters.observability.tracing import Tracing, build_tracing
from adapters.observability.webhook import WebhookDriftAlert
from adapters.persistence.audit import SqlConsistencyAuditor
from adapters.persistence.audit_runs import PgAuditLock, SqlAuditRunStore
from adapters.persistence.engine import create_pg_engine
from adapters.persistence.health import DatabaseHealth
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from adapters.work_queue import PhaseWorker, WorkerOptions
from application.consistency import ConsistencyMonitor
from application.flow_type_registry import FlowTypeRegistry
from application.orchestrator import MasterFlowOrchestrator
from domain.background import BackgroundRun, PhaseJob
from domain.ports import OperationObserver
from entrypoints.flow_type_plugins import load_flow_type_registry
from entrypoints.settings import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    """The schema owner's engine: migrations, the cross-tenant auditor, API key administration, raw test SQL."""
    database = settings.database
    if database.url is None:
        raise RuntimeError("no database URL: set MFO_DATABASE_URL or start the embedded database (mfo serve)")
    return _engine(database.url, settings)


def app_database_url(settings: Settings) -> str:
    """``MFO_APP_DATABASE_URL``, else the owner's URL with the application role (and its password) as the user."""
    database = settings.database
    if database.app_url:
        return database.app_url
    if database.url is None:
        raise RuntimeError("no database URL: set MFO_DATABASE_URL or start the embedded database (mfo serve)")
    owner = make_url(database.url)
    password = database.app_password if database.app_password is not None else owner.password
    return owner.set(username=database.app_role, password=password).render_as_string(hide_password=False)


def create_app_engine(settings: Settings) -> AsyncEngine:
    """The application's engine: a role that owns nothing and that row-level security restricts."""
    return _engine(app_database_url(settings), settings)


def _engine(url: str, settings: Settings) -> AsyncEngine:
    database = settings.database
    return create_pg_engine(
        url,
        pool_size=database.pool_size,
        max_overflow=database.max_overflow,
        pool_timeout=database.pool_timeout_seconds,
        connect_args={
            "server_settings": {
                "statement_timeout": str(database.statement_timeout_ms),
                "lock_timeout": str(database.lock_timeout_ms),
                "application_name": "mfo",
            },
            "timeout": database.connect_timeout_seconds,
            "command_timeout": database.command_timeout_seconds,
        },
    )


def build_flow_types(settings: Settings, observer: OperationObserver | None = None) -> FlowTypeRegistry:
    """Every registered flow type; those named in ``settings.crewai`` run through the CrewAI bridge."""
    registry = load_flow_type_registry(settings.flow_type_group)
    return FlowTypeRegistry(
        through_crewai(definition, observer) if settings.crewai.bridges(definition.name) else definition
        for definition in registry.definitions()
    )


def build_auditor(engine: AsyncEngine, settings: Settings, flow_types: FlowTypeRegistry) -> SqlConsistencyAuditor:
    bridged = [name for name in flow_types.names() if settings.crewai.bridges(name)]
    return SqlConsistencyAuditor(engine, CHILD_TABLES, bridged)


def build_jwt_codec(settings: Settings) -> JwtCodec:
    auth = settings.auth
    return JwtCodec(
        secret=auth.hmac_secret,
        public_key=auth.jwt_public_key,
        private_key=auth.jwt_private_key,
        issuer=auth.issuer,
        audience=auth.audience,
        leeway_seconds=auth.leeway_seconds,
    )


def build_drift_alert(settings: Settings, metrics: MfoMetrics) -> WebhookDriftAlert | None:
    o = settings.observability
    if not o.alert_webhook_url:
        return None
    return WebhookDriftAlert(
        o.alert_webhook_url,
        attempts=o.alert_attempts,
        timeout_seconds=o.alert_timeout_seconds,
        backoff_seconds=o.alert_backoff_seconds,
        metrics=metrics,
    )


def build_tracing_from(settings: Settings) -> Tracing:
    return build_tracing(settings.observability.otel_exporter, settings.observability.otel_service_name)


def build_observer(metrics: MfoMetrics, tracing: Tracing) -> TelemetryObserver:
    return TelemetryObserver(metrics, tracing.tracer)


def build_phase_worker(settings: Settings, orchestrator: Callable[[], MasterFlowOrchestrator]) -> PhaseWorker:
    """A queue consumer whose every job is one ``run_background_phase`` call on a fresh orchestrator."""
    worker = settings.worker

    async def handle(job: PhaseJob) -> BackgroundRun:
        return await orchestrator().run_background_phase(
            job.tenant,
            job.flow_id,
            expected_version=job.expected_version,
            max_attempts=worker.max_attempts,
            actor="worker",
        )

    options = WorkerOptions(
        lease=timedelta(seconds=worker.lease_seconds),
        poll=timedelta(seconds=worker.poll_seconds),
        concurrency=worker.concurrency,
        retry_delay=timedelta(seconds=worker.retry_delay_seconds),
    )
    return PhaseWorker(settings.database.url or "", handle, options)


class Container(containers.DeclarativeContainer):
    """``orchestrator()`` builds a fresh unit of work and hands it down: one per request."""

    settings = providers.Dependency(instance_of=Settings)
    engine = providers.Singleton(create_engine, settings)
    app_engine = providers.Singleton(create_app_engine, settings)
    session_factory = providers.Singleton(async_sessionmaker, app_engine, expire_on_commit=False)
    unit_of_work = providers.Factory(
        SqlAlchemyUnitOfWork,
        session_factory=session_factory,
        idempotency_wait_ms=settings.provided.idempotency.wait_ms,
    )
    metrics = providers.Singleton(MfoMetrics)
    tracing = providers.Singleton(build_tracing_from, settings)
    observer = providers.Singleton(build_observer, metrics, tracing)
    flow_types = providers.Singleton(build_flow_types, settings, observer)
    clock = providers.Singleton(SystemClock)
    database_health = providers.Factory(DatabaseHealth, engine=app_engine)
    auditor = providers.Factory(build_auditor, engine, settings, flow_types)
    jwt_codec = providers.Singleton(build_jwt_codec, settings)
    api_key_store = providers.Singleton(SqlApiKeyStore, reader=app_engine, owner=engine)
    authenticator = providers.Singleton(CredentialAuthenticator, jwt_codec, api_key_store)
    orchestrator = providers.Factory(
        MasterFlowOrchestrator, uow=unit_of_work, flow_types=flow_types, clock=clock, observer=observer
    )
    # cross-tenant maintenance (purging expired idempotency keys): the owner's connection, which row-level
    # security does not restrict; never for a request
    owner_session_factory = providers.Singleton(async_sessionmaker, engine, expire_on_commit=False)
    maintenance_orchestrator = providers.Factory(
        MasterFlowOrchestrator,
        uow=providers.Factory(
            SqlAlchemyUnitOfWork,
            session_factory=owner_session_factory,
            idempotency_wait_ms=settings.provided.idempotency.wait_ms,
        ),
        flow_types=flow_types,
        clock=clock,
        observer=observer,
    )
    # monitoring: audit runs in PostgreSQL, drift alerts, gauges read at scrape time, log fields
    audit_runs = providers.Factory(SqlAuditRunStore, engine)
    drift_alert = providers.Singleton(build_drift_alert, settings, metrics)
    consistency_monitor = providers.Factory(
        ConsistencyMonitor,
        auditor=auditor,
        runs=audit_runs,
        clock=clock,
        alert=drift_alert,
        lock=providers.Factory(PgAuditLock, engine),
        findings_limit=settings.provided.observability.audit_findings_limit,
        interval_seconds=settings.provided.observability.audit_interval_seconds,
    )
    database_gauges = providers.Singleton(  # one cache per process: a scrape storm reads the database once
        CachedGauges,
        providers.Factory(DatabaseGauges, engine),
        settings.provided.observability.metrics_cache_seconds,
    )
    log_context = providers.Object(log_context)
    log_fields = providers.Object(set_log_fields)  # the guard's: the credential's tenant, until the request ends
    install_json_logs = providers.Object(install_json_handler)
    phase_worker = providers.Factory(build_phase_worker, settings, orchestrator.provider)


async def dispose_engines(container: Container) -> None:
    """Close both pools: the application's and the owner's."""
    await container.app_engine().dispose()
    await container.engine().dispose()


def build_container(settings: Settings) -> Container:
    container = Container(settings=settings)
    container.flow_types()  # refuse a bad flow type at start-up, not at the first request
    return container


def server_log_config(settings: Settings) -> dict:
    """uvicorn's ``log_config``: MFO's and uvicorn's own lines as JSON (or plain text, ``MFO_LOG_FORMAT=text``)."""
    from adapters.observability.logs import log_config

    o = settings.observability
    return log_config(o.log_level, json_lines=o.log_format == "json")
