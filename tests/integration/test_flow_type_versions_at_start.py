"""Start-up refuses a registry that dropped a version stored flows still use, naming how many and in which status;
on PostgreSQL, every tenant's flows counted (the schema owner's pool)."""

from __future__ import annotations

from uuid import uuid4

import pytest
from dependency_injector import providers

from adapters.flow_types.discovery import register as discovery
from domain.errors import FlowTypeRegistrationError
from domain.events import Tenant
from domain.ports import FlowFilter
from entrypoints.container import build_flow_types
from entrypoints.http.app import create_app
from entrypoints.version_check import refuse_unregistered_versions
from tests.fakes import another_version
from tests.support import DISCOVERY_CSV, container_on, database_of_its_own

settings, container = database_of_its_own("mfo_versions_at_start")

V2 = another_version(discovery())


async def test_start_up_refuses_to_drop_a_version_flows_still_use(settings, container) -> None:  # type: ignore[no-untyped-def]
    container.flow_types.override(providers.Object(build_flow_types(settings, container.observer(), extra=(V2,))))
    first, second = Tenant(uuid4(), uuid4()), Tenant(uuid4(), uuid4())
    mfo = container.orchestrator
    for tenant in (first, second):
        flow = await mfo().create_flow(tenant, "discovery", "v2", {"data": DISCOVERY_CSV}, actor="t")
        assert flow.contract.version == 2
    started = await mfo().create_flow(first, "discovery", "v2 started", {"data": DISCOVERY_CSV}, actor="t")
    await mfo().start_flow(first, started.flow_id, actor="t")
    await refuse_unregistered_versions(container.maintenance_orchestrator)  # both versions registered: fine

    async with container_on(settings) as without_v2:  # the entry points' discovery alone: version 1
        with pytest.raises(FlowTypeRegistrationError) as refused:
            await refuse_unregistered_versions(without_v2.maintenance_orchestrator)
        assert str(refused.value).startswith(
            "flow type 'discovery' version 2 is still used by 3 flows (2 initialized, 1 running) but is not registered"
        )
        app = create_app(settings, without_v2)
        with pytest.raises(FlowTypeRegistrationError):
            await app.on_startup[0]()  # the first start-up hook: the server does not start

    for tenant in (first, second):  # once no flow uses it (deleted flows do not), version 2 may go
        for item in (await mfo().list_flows(tenant, FlowFilter(), limit=10)).items:
            await mfo().delete_flow(tenant, item.flow_id, actor="t")
    async with container_on(settings) as without_v2:
        await refuse_unregistered_versions(without_v2.maintenance_orchestrator)
