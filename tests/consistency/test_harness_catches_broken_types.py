"""A flow type that breaks the promise fails the harness with a shrunk counterexample naming the type, the entry
point and the step: the two broken types of tests/plugin_example/broken.py, each registered through an entry point
as a plugin package's are, each on a harness database of its own (made as the ``mfo`` plugin makes its own)."""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from entrypoints.settings import Settings
from entrypoints.testing.consistency.harness import ConsistencyHarness, harness_database, third_party_types
from tests.consistency.catching import caught

GROUP = "mfo.broken_flow_types"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def broken_types(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The broken types' entry points, as ``pip install`` of a package declaring them would write them."""
    folder = tmp_path_factory.mktemp("broken-types")
    dist = folder / "mfo_broken_types-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mfo-broken-types\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{GROUP}]\n"
        "own_session_inspection = tests.plugin_example.broken:register_own_session\n"
        "lagging_inspection = tests.plugin_example.broken:register_lagging\n"
    )
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        yield GROUP
    finally:
        sys.path.remove(str(folder))
        importlib.invalidate_caches()


SHRUNK = {"lagging_inspection": True, "own_session_inspection": False}
"""Whether the counterexample is shrunk here. The own-session write shows only when a completion does not commit (a
fault, a discarded completion): shrinking such an example takes Hypothesis its five minutes (to the four steps of
docs/testing.md), so its first one is kept, as the plugin's default settings would shrink it."""


@pytest.mark.parametrize("flow_type", sorted(SHRUNK))
def test_the_harness_catches_a_broken_flow_type(
    mfo_consistency_settings: Settings, broken_types: str, monkeypatch: pytest.MonkeyPatch, flow_type: str
) -> None:
    assert third_party_types(broken_types) == ["lagging_inspection", "own_session_inspection"]
    with harness_database(dataclasses.replace(mfo_consistency_settings, flow_type_group=broken_types)) as settings:
        monkeypatch.setenv("MFO_DATABASE_URL", settings.database.url or "")  # where the own-session writes go
        harness = ConsistencyHarness(settings, flow_types=[flow_type])
        error, counterexample = caught(harness, SHRUNK[flow_type], stateful_step_count=10)
    message = str(error)
    assert re.match(r"(at|after) step \d+ \(", message) and f"on a {flow_type} flow" in message, message
    assert f"{flow_type} flow " in message and " via " in message, message  # the flow's type, the entry point
    assert f"'{flow_type}'" in counterexample  # the shrunk steps create a flow of the type
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"counterexample-{flow_type}.txt").write_text(f"{message}\n\n{counterexample}\n")
