"""/dashboard: the flow dashboard, static HTML, JavaScript and CSS shipped in this package.

The page has no server-side logic of its own: it calls the JSON API like any other client.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.static_files import create_static_files_router

DASHBOARD_DIR = Path(__file__).parent / "static" / "dashboard"


def dashboard_router() -> Router:
    """``/dashboard`` serves ``index.html``; ``/dashboard/<file>`` the page's assets."""
    return create_static_files_router(
        path="/dashboard", directories=[DASHBOARD_DIR], html_mode=True, name="dashboard", tags=["dashboard"]
    )
