from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from entrypoints.http.app import create_app
from tests.support import asgi_client


@pytest.fixture(scope="session")
def app(settings, container) -> Any:  # type: ignore[no-untyped-def]
    return create_app(settings, container)


@pytest.fixture
async def client(app) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    async with asgi_client(app) as client:
        yield client
