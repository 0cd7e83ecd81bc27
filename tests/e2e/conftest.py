from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from entrypoints.http.app import create_app
from entrypoints.local_postgres import free_port
from tests.e2e.server import real_server
from tests.support import TEST_JWT_SECRET, Hopeless, asgi_client, eventually_sync

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def app(settings, container) -> Any:  # type: ignore[no-untyped-def]
    return create_app(settings, container)


@pytest.fixture
async def client(app) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    async with asgi_client(app) as client:
        yield client


@pytest.fixture(scope="module")
def server(migrated_url: str) -> Iterator[str]:
    """``mfo serve`` (production auth, the tests' JWT secret) in its own process on a free port: the base URL."""
    with real_server(migrated_url, MFO_AUTH_MODE="production", MFO_JWT_SECRET=TEST_JWT_SECRET) as running:
        yield running.base_url


@pytest.fixture(scope="module")
def live_server(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app under uvicorn on a free port, in a thread of this process (no second crewai import): the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise Hopeless("the server's thread ended")
        return server.started

    eventually_sync(started, within=60, what="the in-process server starting")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """A page of Debian's headless Chromium (Playwright never downloads a browser), in a new, empty profile."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium package")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a new, empty user data dir
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1440, "height": 1000},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
