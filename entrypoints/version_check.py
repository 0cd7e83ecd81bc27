"""Start-up's check that every flow type version stored flows use is still registered (``mfo serve``, ``mfo
worker``): a deployment that dropped a version those flows run under refuses to start, naming how many flows use
it and in which status."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from domain.errors import StorageUnavailable

if TYPE_CHECKING:
    from entrypoints.container import Container

logger = logging.getLogger("mfo.flow_types")


async def refuse_unregistered_versions(container: Container) -> None:
    """``FlowTypeRegistrationError`` when a stored flow uses a version the registry lacks. When the database does
    not answer the check cannot be made: logged, and start-up goes on (every request would fail alike)."""
    try:
        await container.maintenance_orchestrator().refuse_unregistered_versions()
    except StorageUnavailable as error:
        logger.warning("the flow type versions stored flows use could not be checked: %s", error)
