"""Helpers shared by integration and end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.auth import JwtCodec
from adapters.flow_types.discovery import register
from application.flow_type_registry import AdapterFactory, FlowTypeRegistry, direct
from domain.auth import Role
from domain.events import Tenant
from domain.flow import Flow
from domain.phases import PhaseOutcome
from domain.ports import ChildRecord, FlowTypeAdapter
from entrypoints.container import Container
from entrypoints.settings import Settings
from entrypoints.testing.postgres import drop_database as drop_database
from entrypoints.testing.postgres import migrated_database as migrated_database
from entrypoints.testing.requests import WAIT_FOR_PHASES as WAIT_FOR_PHASES
from entrypoints.testing.requests import asgi_client as asgi_client
from entrypoints.testing.requests import headers as headers

DISCOVERY_CSV = (
    "hostname,type,os,os_version,env,depends_on\n"
    "web1,server,Ubuntu,16.04,prod,db1\n"
    "db1,database,RHEL,7,prod,\n"
    "web2,server,Ubuntu,22.04,dev,db1;web1\n"
)


TEST_JWT_SECRET = "mfo-test-secret-0123456789abcdef0123456789"
"""The HS256 secret of the tests' settings (tests/conftest.py): :func:`auth_headers` signs with it."""


def auth_headers(
    tenant: Tenant, role: Role | str = Role.ADMIN, subject: str = "tester", **extra: str
) -> dict[str, str]:
    """An ``Authorization: Bearer`` header with a token for ``tenant`` and ``role``, accepted in every auth mode."""
    token = JwtCodec(secret=TEST_JWT_SECRET).mint(tenant, Role(role), subject)
    return {"Authorization": f"Bearer {token}", **WAIT_FOR_PHASES, **extra}


def platform_headers(subject: str = "platform-tester", **extra: str) -> dict[str, str]:
    """An ``Authorization: Bearer`` header with the platform operator's token (no tenant), accepted in every mode."""
    token = JwtCodec(secret=TEST_JWT_SECRET).mint(None, Role.PLATFORM, subject)
    return {"Authorization": f"Bearer {token}", **extra}


T = TypeVar("T")


class Hopeless(Exception):
    """Raised by an :func:`eventually` condition when waiting longer cannot help (the process it waits for died)."""


def _gave_up(what: str, within: float, last: Any, detail: Callable[[], object] | None) -> AssertionError:
    more = f"\n{detail()}" if detail is not None else ""
    return AssertionError(f"{what}: not within {within} s; last {last!r}{more}")


async def eventually(
    condition: Callable[[], T | Awaitable[T]],
    *,
    within: float,
    what: str,
    every: float = 0.05,
    detail: Callable[[], object] | None = None,
) -> T:
    """Calls ``condition`` (sync or async) every ``every`` seconds until it returns a truthy value, which is returned.
    An exception it raises counts as not yet (but :class:`Hopeless` fails at once). After ``within`` seconds, an
    AssertionError naming ``what``, the last value or exception and ``detail()``."""
    deadline = time.monotonic() + within
    last: Any = None
    while True:
        try:
            last = condition()
            if inspect.isawaitable(last):
                last = await last
        except Hopeless as hopeless:
            raise _gave_up(what, within, hopeless, detail) from hopeless
        except Exception as error:  # not yet: kept for the message
            last = error
        else:
            if last:
                return last  # type: ignore[no-any-return]
        if time.monotonic() >= deadline:
            raise _gave_up(what, within, last, detail) from (last if isinstance(last, Exception) else None)
        await asyncio.sleep(every)


def eventually_sync(
    condition: Callable[[], T],
    *,
    within: float,
    what: str,
    every: float = 0.05,
    detail: Callable[[], object] | None = None,
) -> T:
    """:func:`eventually` for code without an event loop (the e2e processes and servers): a sync ``condition``."""
    deadline = time.monotonic() + within
    last: Any = None
    while True:
        try:
            last = condition()
        except Hopeless as hopeless:
            raise _gave_up(what, within, hopeless, detail) from hopeless
        except Exception as error:  # not yet: kept for the message
            last = error
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise _gave_up(what, within, last, detail) from (last if isinstance(last, Exception) else None)
        time.sleep(every)


_OWNER_ENGINES: dict[tuple[str, asyncio.AbstractEventLoop], AsyncEngine] = {}


def owner_engine_of(container: Container) -> AsyncEngine:
    """A SQLAlchemy engine on ``container``'s database as the schema owner: the tests' own window onto the stored
    rows (MFO itself runs on asyncpg pools). One per database and event loop (a synchronous test's ``asyncio.run``
    gets its own: pooled asyncpg connections belong to the loop that opened them), closed by
    :func:`dispose_owner_engines`, or by the test that made it in its own loop."""
    from sqlalchemy.ext.asyncio import create_async_engine

    key = (container.settings().database.url, asyncio.get_running_loop())
    if key not in _OWNER_ENGINES:
        _OWNER_ENGINES[key] = create_async_engine(key[0], pool_size=2)
    return _OWNER_ENGINES[key]


_TABLES_REFERENCING_FLOWS = text(
    "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint WHERE confrelid = 'flows'::regclass AND contype = 'f'"
)


async def forget_flows(engine: AsyncEngine, condition: str, **params: Any) -> int:
    """Remove, as the schema owner, the flows matching ``condition`` (SQL on ``flows``) with every row that refers to
    them: for the few tests that store flows of a type or version no server registers by default (``mfo serve``
    refuses to start while stored flows use one), on the database the other tests share. How many were removed."""
    async with engine.begin() as connection:
        ids = list((await connection.execute(text(f"SELECT flow_id FROM flows WHERE {condition}"), params)).scalars())
        for table in (await connection.execute(_TABLES_REFERENCING_FLOWS)).scalars():
            await connection.execute(text(f"DELETE FROM {table} WHERE flow_id = ANY(:ids)"), {"ids": ids})
        await connection.execute(text("DELETE FROM flows WHERE flow_id = ANY(:ids)"), {"ids": ids})
    return len(ids)


async def dispose_owner_engines(url: str | None = None) -> None:
    """Close the engines of the running loop; forget those of loops that have ended (their tests closed them).
    With ``url``, only the engines on that database (one a test is about to drop)."""
    loop = asyncio.get_running_loop()
    for key in [key for key in _OWNER_ENGINES if url is None or key[0] == url]:
        engine = _OWNER_ENGINES.pop(key)
        if key[1] is loop:
            await engine.dispose()


@contextlib.asynccontextmanager
async def own_database(settings: Settings, prefix: str) -> AsyncIterator[Settings]:
    """``settings`` on a new migrated database (named after ``prefix``) on the same server, dropped afterwards."""
    server = settings.database.url
    assert server is not None
    url = await migrated_database(server, prefix)
    try:
        yield dataclasses.replace(settings, database=dataclasses.replace(settings.database, url=url))
    finally:
        await dispose_owner_engines(url)
        await drop_database(server, url)


@contextlib.asynccontextmanager
async def container_on(settings: Settings) -> AsyncIterator[Container]:
    """A container built on ``settings``, its pools closed afterwards."""
    from entrypoints.container import build_container, close_databases

    container = build_container(settings)
    try:
        yield container
    finally:
        await close_databases(container)


def database_of_its_own(prefix: str, scope: str = "module") -> tuple[Any, Any]:
    """The ``settings`` and ``container`` fixtures of a module whose tests run on a database of their own (one per
    ``scope``): for tests that audit the whole database or corrupt rows on purpose, so that no other test reads
    what they leave. Use as ``settings, container = database_of_its_own("mfo_audit")`` at module level."""

    @pytest.fixture(scope=scope, name="settings")  # type: ignore[call-overload]
    async def own_settings(settings: Settings) -> AsyncIterator[Settings]:
        async with own_database(settings, prefix) as mine:
            yield mine

    @pytest.fixture(scope=scope, name="container")  # type: ignore[call-overload]
    async def own_container(settings: Settings) -> AsyncIterator[Container]:
        async with container_on(settings) as container:
            yield container

    return own_settings, own_container


async def snapshot(engine: AsyncEngine, flow_id: UUID) -> dict[str, Any]:
    """Everything stored about a flow, read on a separate connection."""
    async with engine.connect() as connection:
        master = (
            (await connection.execute(text("SELECT * FROM flows WHERE flow_id = :id"), {"id": flow_id}))
            .mappings()
            .all()
        )
        child = (
            (await connection.execute(text("SELECT * FROM discovery_flows WHERE flow_id = :id"), {"id": flow_id}))
            .mappings()
            .all()
        )
        events = (
            (
                await connection.execute(
                    text("SELECT * FROM flow_events WHERE flow_id = :id ORDER BY version"), {"id": flow_id}
                )
            )
            .mappings()
            .all()
        )
    return {"master": [dict(r) for r in master], "child": [dict(r) for r in child], "events": [dict(r) for r in events]}


@dataclasses.dataclass
class Detonator:
    """Whether the :class:`ExplodingAdapter` s built with it raise (the ``detonator`` fixture, disarmed per test)."""

    armed: bool = False


class ExplodingAdapter:
    """Wraps a flow type's adapter. When armed, raises inside the phase the flow's ``explode_in`` names, and after
    writing its child row: mid-operation failures."""

    def __init__(self, inner: FlowTypeAdapter, detonator: Detonator) -> None:
        self._inner = inner
        self._detonator = detonator

    async def run_phase(self, flow: Flow, phase: str) -> PhaseOutcome:
        if self._detonator.armed and flow.configuration.get("explode_in") == phase:
            raise RuntimeError(f"adapter failed inside {phase}")
        return await self._inner.run_phase(flow, phase)

    async def accept_input(self, flow: Flow, phase: str, payload: dict[str, Any]) -> PhaseOutcome:
        return await self._inner.accept_input(flow, phase, payload)

    async def save_child(self, flow: Flow, outcome: PhaseOutcome | None = None) -> None:
        await self._inner.save_child(flow, outcome)
        if self._detonator.armed:
            raise RuntimeError("adapter failed after writing its child row")

    async def load_child(self, tenant: Tenant, flow_id: UUID) -> ChildRecord | None:
        return await self._inner.load_child(tenant, flow_id)


def registry_with(detonator: Detonator, *, bridged: bool = True) -> FlowTypeRegistry:
    """A registry whose discovery adapter is an :class:`ExplodingAdapter` (inside the CrewAI bridge if ``bridged``)."""
    from adapters.crewai_bridge import crewai_adapter

    definition = register()
    plain = direct(definition)

    def exploding(uow: Any) -> FlowTypeAdapter:
        return ExplodingAdapter(plain(uow), detonator)

    adapter: AdapterFactory = crewai_adapter(definition, exploding) if bridged else exploding
    registry = FlowTypeRegistry()
    registry.register(definition, adapter=adapter, bridged=bridged)
    return registry


async def drive(client: Any, tenant: Tenant, flow_id: str, steps: list[tuple[str, dict | None]]) -> dict:
    """POST each (operation, body) to the flow; every step must succeed. The last response's JSON."""
    body: dict = {}
    for operation, payload in steps:
        response = await client.post(f"/api/v1/flows/{flow_id}/{operation}", json=payload, headers=headers(tenant))
        assert response.status_code == 200, (operation, response.text)
        body = response.json()
    return body


async def completed_flow(client: Any, tenant: Tenant, flow_type: str, configuration: dict, inputs: dict) -> dict:
    """Create a flow and run it to completion, answering each waiting phase with ``inputs[phase]``."""
    created = await client.post(
        "/api/v1/flows",
        json={"flow_type": flow_type, "name": f"{flow_type} run", "configuration": configuration},
        headers=headers(tenant),
    )
    assert created.status_code == 201, created.text
    flow = await drive(client, tenant, created.json()["flow_id"], [("start", None)])
    while flow["status"] != "completed":
        if flow["status"] == "waiting_for_input":
            flow = await drive(client, tenant, flow["flow_id"], [("input", inputs[flow["current_phase"]])])
        else:
            assert flow["status"] == "running", flow
            flow = await drive(client, tenant, flow["flow_id"], [("execute", None)])
    return flow


DISCOVERY_INPUTS = {"field_mapping": {"approved": True, "mappings": {}}}
