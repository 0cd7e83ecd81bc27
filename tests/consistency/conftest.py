"""MFO's own harness runs through the shipped ``mfo`` pytest plugin (entrypoints/testing/pytest_plugin.py): its
fixtures, its profiles (``MFO_HARNESS_PROFILE=ci``, the default, or ``deep``: ``make test-deep``) and its closing
figures. Here: the tests' settings for it, discovery's own invariants, and the harness's database as ``settings``
for the tests that drive the harness's parts themselves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from domain.flow import Flow
from domain.lifecycle import PhaseState
from domain.ports import ChildRecord
from entrypoints.settings import Settings
from tests.conftest import settings_on


@pytest.fixture(scope="session")
def mfo_consistency_settings(database_url: str) -> Settings:
    """The harness runs MFO as the other tests do (development-mode auth, the tests' JWT secret)."""
    return settings_on(database_url)


@pytest.fixture(scope="session", name="settings")
def harness_database_settings(mfo_consistency_database: Settings) -> Settings:
    """The harness's own database: it empties it between examples, and its deliberate bugs leave inconsistent flows
    behind, so no other test may share it."""
    return mfo_consistency_database


def discovery_columns_follow_the_phases(flow: Flow, child: ChildRecord) -> str | None:
    """Each ``<phase>_completed`` column is its phase's state, and ``asset_count`` the cleansed records counted."""
    for phase in flow.phase_names:
        completed = flow.phase_state(phase) == PhaseState.COMPLETED
        if child.details[f"{phase}_completed"] != completed:
            return f"{phase}_completed is {child.details[f'{phase}_completed']}, the phase is {flow.phase_state(phase)}"
    if flow.phase_state("asset_inventory") == PhaseState.COMPLETED:
        records = flow.phase_results["data_cleansing"]["record_count"]
        if child.details["asset_count"] != records:
            return f"asset_count is {child.details['asset_count']}, data_cleansing kept {records} records"
    return None


def pytest_mfo_consistency_invariants(config: pytest.Config) -> Mapping[str, Iterable[Any]]:
    return {"discovery": [discovery_columns_follow_the_phases]}
