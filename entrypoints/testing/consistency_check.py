"""The test ``pytest --mfo-consistency`` adds (entrypoints/testing/pytest_plugin.py)."""

from __future__ import annotations

from typing import Any


def test_registered_flow_types_keep_every_view_in_agreement(mfo_consistency: Any) -> None:
    assert mfo_consistency.check() > 0
