"""The composition root: the one place where adapters meet the application."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.auth import CredentialAuthenticator, JwtCodec, SqlApiKeyStore
from adapters.clock import SystemClock
from adapters.crewai_bridge import crewai_adapter
from adapters.flow_types.discovery.crew import LLMEndpoint, with_crew
from adapters.observability.gauge_cache import CachedGauges
from adapters.observability.logs import install_json_handler, log_context, set_log_fields
from adapters.observability.metrics import MfoMetrics
from adapters.observability.observer import TelemetryObserver
from adapters.observability.scrape import DatabaseGauges
from adapters.observability.tracing import Tracing, build_tracing
from adapters.observability.webhook import WebhookDriftAlert
from adapters.persistence.audit import SqlConsistencyAuditor
from adapters.persistence.audit_runs import PgAuditLock, SqlAuditRunStore
from adapters.persistence.database import Database, PoolOptions, url_with_user
from adapters.persistence.health import DatabaseHealth, SchemaRevision
from adapters.persistence.phase_runs import PgPhaseQueue
from adapters.persistence.unit_of_work import AsyncpgUnitOfWork
from application.consistency import ConsistencyMonitor
from application.flow_type_registry import AdapterFactory, FlowTypeRegistry
from application.orchestrator import MasterFlowOrchestrator
from application.phase_execution import PhaseExecution
from application.phase_runner import PhaseRunner, RunnerOptions
from domain.flow_types import FlowTypeDefinition
from domain.ports import OperationObserver
from entrypoints.flow_type_plugins import load_flow_type_registry
from entrypoints.settings import DatabaseSettings, Settings


def owner_database_url(settings: Settings) -> str:
    """The schema owner's URL: migrations, the cross-tenant auditor, API key administration."""
    if settings.database.url is None:
        raise RuntimeError("no database URL: set MFO_DATABASE_URL or start the embedded database (mfo serve)")
    return settings.database.url


def app_database_url(settings: Settings) -> str:
    """``MFO_APP_DATABASE_URL``, else the owner's URL with the application role (and its password) as the user."""
    database = settings.database
    if database.app_url:
        return database.app_url
    return url_with_user(owner_database_url(settings), database.app_role, database.app_password)


def pool_options(database: DatabaseSettings) -> PoolOptions:
    return PoolOptions(
        max_size=database.pool_size + database.max_overflow,
        keep_idle=database.pool_size,
        acquire_timeout_seconds=database.pool_timeout_seconds,
        connect_timeout_seconds=database.connect_timeout_seconds,
        command_timeout_seconds=database.command_timeout_seconds,
        statement_timeout_ms=database.statement_timeout_ms,
        lock_timeout_ms=database.lock_timeout_ms,
        transaction_pooling=database.pgbouncer,
    )


def listen_database_url(settings: Settings) -> str | None:
    """Where a runner LISTENs for due work: the owner's URL; behind PgBouncer (whose transaction pooling would
    hand the listening session's server connection to others) ``MFO_DB_LISTEN_URL``, or None: polling only."""
    if settings.database.pgbouncer:
        return settings.database.listen_url
    return owner_database_url(settings)


def build_flow_types(
    settings: Settings, observer: OperationObserver | None = None, extra: tuple[FlowTypeDefinition, ...] = ()
) -> FlowTypeRegistry:
    """Every registered version of every flow type; new flows of the types named in ``settings.crewai`` run
    through the CrewAI bridge (a flow that exists runs as its contract recorded, whatever the setting); discovery's
    field mapping asks a crew when ``settings.llm`` names an endpoint. ``extra``: definitions (or versions)
    registered besides the entry points'."""

    def bridge(definition: FlowTypeDefinition, direct: AdapterFactory) -> AdapterFactory:
        return crewai_adapter(definition, direct, observer)

    endpoint = llm_endpoint(settings)
    loaded = load_flow_type_registry(settings.flow_type_group, extra)
    definitions = [
        with_crew(d, endpoint) if d.name == "discovery" else d for name in loaded.names() for d in loaded.versions(name)
    ]
    return FlowTypeRegistry(definitions).with_bridge(bridge, settings.crewai.bridges)


def llm_endpoint(settings: Settings) -> LLMEndpoint | None:
    llm = settings.llm
    if not (llm.base_url and llm.model and llm.api_key):
        return None
    return LLMEndpoint(llm.base_url, llm.model, llm.api_key, request_timeout_seconds=llm.timeout_seconds)


def build_auditor(database: Database, settings: Settings, flow_types: FlowTypeRegistry) -> SqlConsistencyAuditor:
    """The auditor of every registered type's child table; whether a flow has a CrewAI state to compare is its own
    recorded contract's, not ``settings``'s."""
    return SqlConsistencyAuditor(database, [d.child_table.name for d in flow_types.definitions()])


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


def runner_options(settings: Settings, *, polls: bool) -> RunnerOptions:
    worker = settings.worker
    return RunnerOptions(
        lease_seconds=worker.lease_seconds,
        heartbeat_seconds=worker.heartbeat_seconds,
        poll_seconds=worker.poll_seconds,
        capacity=worker.concurrency,
        tenant_limit=worker.tenant_limit,
        polls=polls,
    )


class Container(containers.DeclarativeContainer):
    """The object graph. ``orchestrator()`` builds a fresh unit of work and hands it down: one per request."""

    settings = providers.Dependency(instance_of=Settings)
    # two pools: the application's role (row-level security applies) and the schema owner's (sees every tenant)
    app_database = providers.Singleton(
        Database,
        providers.Callable(app_database_url, settings),
        providers.Callable(pool_options, settings.provided.database),
    )
    owner_database = providers.Singleton(
        Database,
        providers.Callable(owner_database_url, settings),
        providers.Callable(pool_options, settings.provided.database),
    )
    unit_of_work = providers.Factory(
        AsyncpgUnitOfWork, database=app_database, idempotency_wait_ms=settings.provided.idempotency.wait_ms
    )
    metrics = providers.Singleton(MfoMetrics)
    tracing = providers.Singleton(build_tracing_from, settings)
    observer = providers.Singleton(build_observer, metrics, tracing)
    flow_types = providers.Singleton(build_flow_types, settings, observer)
    clock = providers.Singleton(SystemClock)
    # each orchestrator (one per request) gets a unit of work of its own: the Factory above is called for it
    orchestrator = providers.Factory(
        MasterFlowOrchestrator,
        uow=unit_of_work,
        flow_types=flow_types,
        clock=clock,
        observer=observer,
        new_uow=unit_of_work.provider,
    )
    # phase execution: each claim and each completion a fresh part on a unit of work of its own; a running
    # handler reads through units of work of its own too (application/phase_execution.py)
    phase_execution = providers.Factory(
        PhaseExecution,
        uow=unit_of_work,
        flow_types=flow_types,
        clock=clock,
        observer=observer,
        new_uow=unit_of_work.provider,
    )
    phase_queue = providers.Factory(PgPhaseQueue, owner_database, providers.Callable(listen_database_url, settings))
    # one runner per process: the server's (polling unless MFO_WORKER_IN_SERVE is off) or the worker's (polling)
    phase_runner = providers.Factory(  # one per process: the app's (entrypoints/http/app.py) or the worker's
        PhaseRunner,
        execution=phase_execution.provider,
        queue=phase_queue,
        clock=clock,
        options=providers.Callable(runner_options, settings, polls=True),
    )
    # cross-tenant maintenance (purging expired idempotency keys): the owner's pool, which row-level security does
    # not restrict; never for a request
    maintenance_orchestrator = providers.Factory(
        MasterFlowOrchestrator,
        uow=providers.Factory(
            AsyncpgUnitOfWork, database=owner_database, idempotency_wait_ms=settings.provided.idempotency.wait_ms
        ),
        flow_types=flow_types,
        clock=clock,
        observer=observer,
    )
    database_health = providers.Factory(DatabaseHealth, database=app_database)
    schema_revision = providers.Factory(SchemaRevision, owner=owner_database)
    auditor = providers.Factory(build_auditor, owner_database, settings, flow_types)
    jwt_codec = providers.Singleton(build_jwt_codec, settings)
    api_key_store = providers.Singleton(SqlApiKeyStore, reader=app_database, owner=owner_database)
    authenticator = providers.Singleton(CredentialAuthenticator, jwt_codec, api_key_store)
    # monitoring: audit runs in PostgreSQL, drift alerts, gauges read at scrape time, log fields
    audit_runs = providers.Factory(SqlAuditRunStore, owner_database)
    drift_alert = providers.Singleton(build_drift_alert, settings, metrics)
    consistency_monitor = providers.Factory(
        ConsistencyMonitor,
        auditor=auditor,
        runs=audit_runs,
        clock=clock,
        alert=drift_alert,
        lock=providers.Factory(PgAuditLock, owner_database),
        findings_limit=settings.provided.observability.audit_findings_limit,
        interval_seconds=settings.provided.observability.audit_interval_seconds,
    )
    database_gauges = providers.Singleton(  # one cache per process: a scrape storm reads the database once
        CachedGauges,
        providers.Factory(DatabaseGauges, owner_database),
        settings.provided.observability.metrics_cache_seconds,
    )
    log_context = providers.Object(log_context)
    log_fields = providers.Object(set_log_fields)  # the guard's: the credential's tenant, until the request ends
    install_json_logs = providers.Object(install_json_handler)


async def close_databases(container: Container) -> None:
    """Close both pools: the application's and the owner's."""
    await container.app_database().close()
    await container.owner_database().close()


def build_container(settings: Settings) -> Container:
    container = Container(settings=settings)
    container.flow_types()  # refuse a bad flow type at start-up, not at the first request
    return container


def server_log_config(settings: Settings) -> dict:
    """uvicorn's ``log_config``: MFO's and uvicorn's own lines as JSON (or plain text, ``MFO_LOG_FORMAT=text``)."""
    from adapters.observability.logs import log_config

    o = settings.observability
    return log_config(o.log_level, json_lines=o.log_format == "json")
