"""The pytest hooks the ``mfo`` plugin calls; implement them in your ``conftest.py``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest


@pytest.hookspec
def pytest_mfo_consistency_invariants(config: Any) -> Mapping[str, Iterable[Any]] | None:
    """Your flow types' own invariants, by type name: each a function ``(flow, child) -> str | None`` that returns
    what is wrong (``entrypoints/testing/consistency/type_invariants.py``). The harness checks them after every step
    for every flow of that type, beside MFO's own."""
