"""Start-up's check that every flow type version stored flows use is still registered (``mfo serve``, ``mfo
worker``): a deployment that dropped a version those flows run under refuses to start, naming how many flows use
it and in which status."""

from __future__ import annotations

import logging
from collections.abc import Callable

from application.orchestrator import MasterFlowOrchestrator
from domain.errors import StorageUnavailable

logger = logging.getLogger("mfo.flow_types")


async def refuse_unregistered_versions(maintenance: Callable[[], MasterFlowOrchestrator]) -> None:
    """``FlowTypeRegistrationError`` when a stored flow uses a version the registry lacks (``maintenance``: the
    container's orchestrator on the schema owner's pool, which sees every tenant). When the database does not
    answer the check cannot be made: logged, and start-up goes on (every request would fail alike)."""
    try:
        await maintenance().refuse_unregistered_versions()
    except StorageUnavailable as error:
        logger.warning("the flow type versions stored flows use could not be checked: %s", error)
