"""The harness from outside: MFO's wheel in a fresh virtual environment, next to a small package of a flow-type
author's own (its own ``pyproject.toml`` declaring its flow types through the entry point and enabling the plugin,
exactly the walk-through in docs/adding-a-flow-type.md), and ``pytest`` run in that package's directory: it passes
for the good type and fails, with the counterexample, for the broken one.

The new environment gets the dependencies this one has, at the same versions, from uv's cache (no network; when
the cache lacks one, uv fetches it from PyPI).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")
IGNORED = (".venv", ".git", ".mfo", "*.egg-info", "build", "mutants", "test-artifacts", ".hypothesis", "__pycache__")
"""Not copied for the build: what a clean clone does not hold."""

PYPROJECT = """\
[project]
name = "mfo-inspection"
version = "1.0"
dependencies = ["mfo[testing]"]

[project.entry-points."mfo.flow_types"]
inspection = "mfo_inspection:register"
lagging_inspection = "mfo_inspection_lagging:register"

[tool.pytest.ini_options]
addopts = "--mfo-consistency"

[tool.setuptools]
py-modules = ["mfo_inspection", "mfo_inspection_lagging"]
"""

CONFTEST = """\
def rooms_counted(flow, child):
    if flow.phase_state("survey") == "completed" and child.details["room_count"] != len(flow.configuration["rooms"]):
        return f"room_count is {child.details['room_count']}"
    return None


def pytest_mfo_consistency_invariants(config):
    return {"inspection": [rooms_counted]}
"""
"""The type's own invariant, through the plugin's hook (as docs/testing.md shows it)."""

LAGGING = '''\
"""inspection, its child row's status made from its phases instead of following the master: a broken type."""

import dataclasses

from domain.flow_types import ChildTable
from domain.lifecycle import PhaseState
from mfo_inspection import INSPECTION_FLOWS
from mfo_inspection import register as inspection


def status_from_the_phases(flow):
    done = all(flow.phase_state(phase) == PhaseState.COMPLETED for phase in flow.phase_names)
    started = any(flow.phase_state(phase) != PhaseState.PENDING for phase in flow.phase_names)
    status = "complete" if done else "in_progress" if started else "pending"
    return {**INSPECTION_FLOWS.project(flow), "status": status}


def register():
    table = ChildTable("lagging_inspection_flows", INSPECTION_FLOWS.columns, status_from_the_phases)
    return dataclasses.replace(inspection(), name="lagging_inspection", child_table=table)
'''


def run(*command: str | Path, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300, **options)  # type: ignore[call-overload]


def uv(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    """uv, on the user's own cache (the tests run with a HOME of their own, tests/conftest.py)."""
    cache = os.environ.get("UV_CACHE_DIR") or str(Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "uv")
    return run(UV, *arguments, env={**os.environ, "UV_CACHE_DIR": cache})


def uv_checked(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    done = uv(*arguments)
    assert done.returncode == 0, f"uv {arguments}: {done.stdout}\n{done.stderr}"
    return done


def uv_install(venv: Path, *arguments: str | Path) -> None:
    """``uv pip install`` into ``venv``, from uv's cache alone if it has everything, else from PyPI too."""
    base = ["pip", "install", "--quiet", "--python", venv / "bin" / "python", *arguments]
    if uv(*base[:2], "--offline", *base[2:]).returncode != 0:
        uv_checked(*base)


@pytest.fixture(scope="module")
def author_repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the venv, the author's package directory): MFO's wheel and the package installed in a fresh venv."""
    work = tmp_path_factory.mktemp("outside")
    source = work / "mfo-source"  # built from a copy: the build leaves nothing in the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*IGNORED))
    if uv("build", "--wheel", "--quiet", "--offline", "--out-dir", work / "dist", source).returncode != 0:
        uv_checked("build", "--wheel", "--quiet", "--out-dir", work / "dist", source)  # setuptools from PyPI
    wheel = next((work / "dist").glob("mfo-*.whl"))
    venv = work / "venv"
    uv_checked("venv", "--quiet", "--python", sys.executable, venv)
    pinned = uv_checked("pip", "freeze", "--python", sys.executable).stdout.splitlines()
    requirements = work / "requirements.txt"
    keep = [line for line in pinned if not line.startswith(("-e", "mfo", "pip==", "uv==", "setuptools=="))]
    requirements.write_text("\n".join(keep) + "\n")
    uv_install(venv, "--no-deps", "-r", requirements)
    uv_install(venv, "--no-deps", wheel)
    package = work / "mfo-inspection"
    package.mkdir()
    (package / "pyproject.toml").write_text(PYPROJECT)
    shutil.copy(ROOT / "tests" / "plugin_example" / "__init__.py", package / "mfo_inspection.py")
    (package / "mfo_inspection_lagging.py").write_text(LAGGING)
    (package / "conftest.py").write_text(CONFTEST)
    uv_install(venv, "--no-deps", package)
    return venv, package


def pytest_in(venv: Path, package: Path, database_url: str, *options: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PYTHON", "MFO_", "VIRTUAL"))}
    environment["MFO_TEST_DATABASE_URL"] = database_url
    profile = "--mfo-consistency-profile=smoke"  # the walk-through's run, on a budget of seconds
    return run(venv / "bin" / "pytest", "-p", "no:cacheprovider", profile, *options, cwd=package, env=environment)


@pytest.mark.slow
def test_the_plugin_passes_a_good_type_and_fails_a_broken_one(
    author_repository: tuple[Path, Path], database_url: str
) -> None:
    venv, package = author_repository
    good = pytest_in(venv, package, database_url, "--mfo-consistency-types=inspection")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "1 passed" in good.stdout and "steps/s" in good.stdout, good.stdout
    assert "state machine on inspection: " in good.stdout, good.stdout
    assert "the types' own invariants: rooms_counted" in good.stdout, good.stdout
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / "outside-package-good-type.txt").write_text(good.stdout)

    broken = pytest_in(venv, package, database_url, "--mfo-consistency-types=lagging_inspection")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "1 failed" in broken.stdout, broken.stdout
    assert re.search(r"Inconsistency: (at|after) step \d+ \(", broken.stdout), broken.stdout
    assert "on a lagging_inspection flow" in broken.stdout, broken.stdout
    assert "state = FlowConsistencyMachine()" in broken.stdout, broken.stdout
    (ROOT / "test-artifacts" / "outside-package-broken-type.txt").write_text(broken.stdout)
