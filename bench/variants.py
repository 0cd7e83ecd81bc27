"""The deliberately wrong wiring the benchmark compares against: each flow-type adapter writes its child record
(and the bridge its CrewAI state) in a session of its own, as bridge services that open their own sessions do.

    uvicorn bench.variants:app      (MFO_DATABASE_URL set)

Benchmark use only: it reuses the consistency harness's test-only fault switch.
"""

from __future__ import annotations

from dependency_injector import providers
from sqlalchemy.ext.asyncio import create_async_engine

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from entrypoints.testing.consistency.faults import faulty_registry
from tests.consistency.bugs import BuggyAdapter, Bugs


def own_session_app() -> object:
    settings = Settings.from_env()
    container = build_container(settings)
    admin = create_async_engine(settings.database.url or "", pool_size=1)
    registry = faulty_registry(
        container.flow_types(), Bugs(own_session_child=True), admin, container.unit_of_work, BuggyAdapter
    )
    container.flow_types.override(providers.Object(registry))
    return create_app(settings, container)


app = own_session_app()
