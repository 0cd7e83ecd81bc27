"""/dashboard: the flow dashboard, static HTML, JavaScript and CSS shipped in this package.

The page has no server-side logic of its own: it calls the JSON API like any other client.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.static_files import create_static_files_router

DASHBOARD_DIR = Path(__file__).parent / "static" / "dashboard"
MAX_ASSET_PATH = 255
"""The longest path under /dashboard that can name one of its files (they have short names, in one folder)."""


def is_asset_path(path: str) -> bool:
    """False for a path no file of the dashboard can have: too long, or holding a control character (NUL among
    them, which the file system calls refuse with an error of their own)."""
    return len(path) <= MAX_ASSET_PATH and path.isprintable()


def only_asset_paths(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A guard: any other path is a 404 before the file system is asked."""
    if not is_asset_path(connection.scope["path"]):
        raise NotFoundException("no such file in the dashboard")


def dashboard_router() -> Router:
    """``/dashboard`` serves ``index.html``; ``/dashboard/<file>`` the page's assets."""
    return create_static_files_router(
        path="/dashboard",
        directories=[DASHBOARD_DIR],
        html_mode=True,
        name="dashboard",
        tags=["dashboard"],
        guards=[only_asset_paths],
    )
