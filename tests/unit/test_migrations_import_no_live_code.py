"""A migration runs the SQL of the day it was written: it imports only Alembic, SQLAlchemy and the standard library,
never MFO's live code (whose changes would silently change what an old migration does)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

VERSIONS = Path(__file__).resolve().parents[2] / "adapters" / "persistence" / "migrations" / "versions"
ALLOWED = {"alembic", "sqlalchemy", "__future__"} | set(sys.stdlib_module_names)
DYNAMIC_IMPORTS = {"import_module", "__import__"}


def live_imports(source: str) -> list[str]:
    """What ``source`` imports beyond Alembic, SQLAlchemy and the standard library, and any import by name at run
    time (``importlib.import_module``, ``__import__``), which could reach live code unseen."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] not in ALLOWED]
        elif isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").split(".")[0] not in ALLOWED:
                found.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if called in DYNAMIC_IMPORTS:
                found.append(f"{called}(...)")
    return found


MIGRATIONS = sorted(VERSIONS.glob("*.py"))


def test_there_are_migrations_to_check() -> None:
    assert len(MIGRATIONS) >= 10


@pytest.mark.parametrize("migration", MIGRATIONS, ids=lambda path: path.stem)
def test_a_migration_imports_nothing_from_live_code(migration: Path) -> None:
    assert live_imports(migration.read_text()) == []


def test_the_check_sees_every_way_of_reaching_live_code() -> None:
    source = """
from __future__ import annotations
import re, importlib.util
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from adapters.persistence.row_level_security import app_role_sql
import domain.lifecycle
from . import sibling
import importlib
importlib.import_module('adapters.persistence.tables')
"""
    assert live_imports(source) == [
        "adapters.persistence.row_level_security",
        "domain.lifecycle",
        ".",
        "import_module(...)",
    ]
