"""The limits and idempotency settings come from MFO_ variables."""

from __future__ import annotations

import pytest

from entrypoints.settings import ApiSettings, IdempotencySettings, Settings


def test_limits_and_idempotency_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MFO_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("MFO_MAX_PAGE_SIZE", "30")
    monkeypatch.setenv("MFO_MAX_HEADER_COUNT", "20")
    monkeypatch.setenv("MFO_MAX_HEADER_BYTES", "4000")
    monkeypatch.setenv("MFO_IDEMPOTENCY_TTL_SECONDS", "60")
    monkeypatch.setenv("MFO_IDEMPOTENCY_WAIT_MS", "250")
    monkeypatch.setenv("MFO_IDEMPOTENCY_PURGE_INTERVAL_SECONDS", "0")
    api, keys = ApiSettings.from_env(), IdempotencySettings.from_env()
    assert (api.max_body_bytes, api.max_page_size) == (2048, 30)
    assert (api.max_header_count, api.max_header_bytes) == (20, 4000)
    assert (keys.ttl_seconds, keys.wait_ms, keys.purge_interval_seconds) == (60, 250, 0)


def test_defaults_without_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MFO_IDEMPOTENCY_TTL_SECONDS", "MFO_IDEMPOTENCY_WAIT_MS", "MFO_IDEMPOTENCY_PURGE_INTERVAL_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert IdempotencySettings.from_env() == IdempotencySettings(86_400, 10_000, 600)


@pytest.mark.parametrize("name", ["MFO_MAX_HEADER_COUNT", "MFO_MAX_HEADER_BYTES"])
def test_a_header_limit_must_be_at_least_one(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "0")
    with pytest.raises(SystemExit, match=f"{name} must be at least 1"):
        Settings.from_env()


def test_the_idempotency_wait_must_end_before_the_statement_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MFO_IDEMPOTENCY_WAIT_MS", "30000")
    monkeypatch.setenv("MFO_DB_STATEMENT_TIMEOUT_MS", "30000")
    with pytest.raises(SystemExit, match="must be shorter than MFO_DB_STATEMENT_TIMEOUT_MS"):
        Settings.from_env()
