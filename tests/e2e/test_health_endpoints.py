"""``/livez``, ``/readyz`` and ``/health``: public, in the OpenAPI schema, and ready only when every part is.

The apps here run their start-up and shutdown hooks (Litestar's test client), each on a container of its own, since
shutting an app down closes its container's pools.
"""

from __future__ import annotations

from dataclasses import replace

from litestar.testing import AsyncTestClient
from sqlalchemy import text

from adapters.persistence.health import head_revisions
from entrypoints.http.app import create_app
from entrypoints.settings import DatabaseSettings
from tests.support import container_on, own_database, owner_engine_of


async def test_livez_and_readyz_answer_without_a_credential_in_production(settings) -> None:  # type: ignore[no-untyped-def]
    production = replace(settings, auth=replace(settings.auth, mode="production"))
    async with container_on(production) as container:
        app = create_app(production, container)
        async with AsyncTestClient(app) as client:
            live = await client.get("/livez")
            ready = await client.get("/readyz")
            old = await client.get("/health")
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "checks": {"shutdown": "ok", "database": "ok", "migrations": "ok", "phase_runner": "ok"},
    }
    assert old.status_code == 200 and old.json()["status"] == "ok"


async def test_readyz_is_503_once_shutdown_begins_and_before_the_runner_stops(settings) -> None:  # type: ignore[no-untyped-def]
    async with container_on(settings) as container:
        app = create_app(settings, container)
        async with AsyncTestClient(app) as client:
            app.state.readiness.drain()  # what mfo serve does on SIGTERM, and the first shutdown hook does
            ready = await client.get("/readyz")
            live = await client.get("/livez")
    assert ready.status_code == 503 and ready.headers["retry-after"]
    assert ready.json()["status"] == "not_ready"
    assert ready.json()["checks"]["shutdown"] == "shutting down"
    assert ready.json()["checks"]["phase_runner"] == "ok"
    assert live.status_code == 200


async def test_readyz_is_503_naming_the_database_when_it_does_not_answer(settings) -> None:  # type: ignore[no-untyped-def]
    unreachable = replace(
        settings,
        database=DatabaseSettings(url="postgresql+asyncpg://mfo@127.0.0.1:1/none", connect_timeout_seconds=1),
    )
    async with container_on(unreachable) as container:
        app = create_app(unreachable, container)
        async with AsyncTestClient(app) as client:
            ready = await client.get("/readyz")
            live = await client.get("/livez")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"].startswith("unreachable")
    assert checks["migrations"].startswith("unknown")
    assert live.status_code == 200  # the process answers: no reason to restart it


async def test_readyz_is_503_while_the_schema_is_behind_the_code(settings) -> None:  # type: ignore[no-untyped-def]
    async with own_database(settings, "mfo_readyz") as behind, container_on(behind) as container:
        async with owner_engine_of(container).begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '0009'"))
        app = create_app(behind, container)
        async with AsyncTestClient(app) as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    migrations = ready.json()["checks"]["migrations"]
    assert "at 0009" in migrations and ", ".join(sorted(head_revisions())) in migrations, migrations
    assert ready.json()["checks"]["database"] == "ok"


async def test_readyz_is_503_when_the_phase_runner_never_started(client) -> None:  # type: ignore[no-untyped-def]
    """The shared app of the e2e tests runs no start-up hooks (httpx's ASGI transport): its runner never started."""
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["phase_runner"] == "not running"


async def test_the_health_endpoints_are_in_the_openapi_schema(client) -> None:  # type: ignore[no-untyped-def]
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path, operation_id in (("/livez", "livez"), ("/readyz", "readyz"), ("/health", "health")):
        assert paths[path]["get"]["operationId"] == operation_id
        assert "security" not in paths[path]["get"]
    assert "503" in paths["/readyz"]["get"]["responses"]
