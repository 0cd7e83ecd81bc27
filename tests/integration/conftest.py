"""Fixtures of the integration tests that need no database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.llm_stub import LLMStub


@pytest.fixture
def llm_stub() -> Iterator[LLMStub]:
    """An OpenAI-compatible endpoint on 127.0.0.1 that answers as the test scripts it (tests/llm_stub.py)."""
    stub = LLMStub().start()
    try:
        yield stub
    finally:
        stub.close()
