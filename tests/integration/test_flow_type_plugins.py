"""A flow type from outside the core, through the ``mfo.flow_types`` entry point group and HTTP.

The test writes a distribution's metadata (as ``pip install`` of a plugin package would) onto
``sys.path``; nothing in MFO's own code names the plugin.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.persistence.child_tables import child_table_ddl
from domain.errors import FlowTypeRegistrationError
from domain.events import Tenant
from entrypoints.container import build_container, close_databases
from entrypoints.http.app import create_app
from entrypoints.settings import CrewAISettings, Settings
from tests.plugin_example import INSPECTION_FLOWS
from tests.support import asgi_client, completed_flow, forget_flows, headers, owner_engine_of


@contextmanager
def installed_plugin(folder: Path, *entry_points: str) -> Iterator[None]:
    """Make ``entry_points`` (lines such as ``name = module:attr``) visible as an installed package's."""
    dist = folder / "mfo_test_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mfo-test-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[mfo.flow_types]\n" + "\n".join(entry_points) + "\n")
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        importlib.invalidate_caches()


@pytest.fixture(scope="module")
async def inspection_table(container) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """The plugin's own migration: create its child table, under row-level security like every tenant table."""
    async with owner_engine_of(container).begin() as connection:
        exists = await connection.scalar(text("SELECT to_regclass('inspection_flows')"))
        for statement in [] if exists else child_table_ddl(INSPECTION_FLOWS):
            await connection.execute(text(statement))
    yield
    # servers the later tests start register no inspection type, and refuse a database whose flows use one
    await forget_flows(owner_engine_of(container), "flow_type = 'inspection'")


@pytest.mark.parametrize("through_crewai", [False, True], ids=["direct", "crewai-bridge"])
async def test_a_plugin_flow_type_runs_through_http(
    settings: Settings, inspection_table: None, tenant: Tenant, tmp_path: Path, through_crewai: bool
) -> None:
    crewai = CrewAISettings(("discovery", "inspection") if through_crewai else ("discovery",))
    with installed_plugin(tmp_path, "inspection = tests.plugin_example:register"):
        container = build_container(dataclasses.replace(settings, crewai=crewai))
    try:
        app = create_app(settings, container)
        async with asgi_client(app) as client:
            listed = (await client.get("/api/v1/flow-types")).json()["items"]
            assert {"name": "inspection", "phases": ["survey", "sign_off", "report"]}.items() <= next(
                t for t in listed if t["name"] == "inspection"
            ).items()
            flow = await completed_flow(
                client, tenant, "inspection", {"rooms": ["hall", "lab", "roof"]}, {"sign_off": {"by": "ada"}}
            )
            assert flow["phase_results"]["report"] == {"signed_by": "ada"}
            status = (await client.get(f"/api/v1/flows/{flow['flow_id']}/status", headers=headers(tenant))).json()
            assert status["in_sync"] and status["child"]["details"]["room_count"] == 3
            assert ("crewai" in status["child"]["mirrors"]) is through_crewai
    finally:
        await close_databases(container)


@pytest.mark.parametrize(
    ("entry_points", "message"),
    [
        (["discovery = tests.plugin_example:register"], "defines a flow type named 'inspection'"),
        (["inspection = tests.plugin_example:not_a_definition"], "gave str, not a FlowTypeDefinition"),
        (["inspection = tests.no_such_module:register"], "could not be loaded"),
    ],
)
def test_a_bad_plugin_stops_start_up_with_a_clear_message(
    settings: Settings, tmp_path: Path, entry_points: list[str], message: str
) -> None:
    with installed_plugin(tmp_path, *entry_points), pytest.raises(FlowTypeRegistrationError, match=message):
        build_container(settings)


def test_a_duplicate_flow_type_name_stops_start_up(settings: Settings, tmp_path: Path) -> None:
    with installed_plugin(tmp_path, "inspection = tests.plugin_example:register"):
        second = tmp_path / "second"
        second.mkdir()
        dist = second / "another_plugin-1.0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: another-plugin\nVersion: 1.0\n")
        (dist / "entry_points.txt").write_text("[mfo.flow_types]\ninspection = tests.plugin_example:register\n")
        sys.path.insert(0, str(second))
        try:
            with pytest.raises(FlowTypeRegistrationError, match=r"'inspection'.*already registered"):
                build_container(settings)
        finally:
            sys.path.remove(str(second))
