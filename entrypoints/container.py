"""The composition root: the one place where adapters meet the application."""

from __future__ import annotations

from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from adapters.auth import CredentialAuthenticator, JwtCodec, SqlApiKeyStore
from adapters.clock import SystemClock
from adapters.crewai_bridge import through_crewai
from adapters.flow_types.child_table import CHILD_TABLES
from adapters.persistence.audit import SqlConsistencyAuditor
from adapters.persistence.health import DatabaseHealth
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from application.flow_type_registry import FlowTypeRegistry
from application.orchestrator import MasterFlowOrchestrator
from entrypoints.flow_type_plugins import load_flow_type_registry
from entrypoints.settings import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    database = settings.database
    if database.url is None:
        raise RuntimeError("no database URL: set MFO_DATABASE_URL or start the embedded database (mfo serve)")
    return create_async_engine(
        database.url,
        pool_size=database.pool_size,
        max_overflow=database.max_overflow,
        pool_timeout=database.pool_timeout_seconds,
        pool_pre_ping=True,
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


def build_flow_types(settings: Settings) -> FlowTypeRegistry:
    """Every registered flow type; those named in ``settings.crewai`` run through the CrewAI bridge."""
    registry = load_flow_type_registry(settings.flow_type_group)
    return FlowTypeRegistry(
        through_crewai(definition) if settings.crewai.bridges(definition.name) else definition
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


class Container(containers.DeclarativeContainer):
    """``orchestrator()`` builds a fresh unit of work and hands it down: one per request."""

    settings = providers.Dependency(instance_of=Settings)
    engine = providers.Singleton(create_engine, settings)
    session_factory = providers.Singleton(async_sessionmaker, engine, expire_on_commit=False)
    unit_of_work = providers.Factory(SqlAlchemyUnitOfWork, session_factory=session_factory)
    flow_types = providers.Singleton(build_flow_types, settings)
    clock = providers.Singleton(SystemClock)
    database_health = providers.Factory(DatabaseHealth, engine=engine)
    auditor = providers.Factory(build_auditor, engine, settings, flow_types)
    orchestrator = providers.Factory(MasterFlowOrchestrator, uow=unit_of_work, flow_types=flow_types, clock=clock)
    jwt_codec = providers.Singleton(build_jwt_codec, settings)
    api_key_store = providers.Singleton(SqlApiKeyStore, engine)
    authenticator = providers.Singleton(CredentialAuthenticator, jwt_codec, api_key_store)


def build_container(settings: Settings) -> Container:
    container = Container(settings=settings)
    container.flow_types()  # refuse a bad flow type at start-up, not at the first request
    return container
