"""Settings come from MFO_* variables (pydantic-settings): defaults, every problem at once, the _FILE variants of the
secrets, and the README's tables made from the same declarations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from entrypoints.environment import GROUPS
from entrypoints.settings import (
    ApiSettings,
    AuthSettings,
    CrewAISettings,
    DatabaseSettings,
    IdempotencySettings,
    LegacySettings,
    LLMSettings,
    ObservabilitySettings,
    Settings,
    WorkerSettings,
)
from entrypoints.settings_doc import rendered, table
from entrypoints.settings_reading import SECRET, InvalidSettings, variable_of

README = Path(__file__).resolve().parents[2] / "README.md"
SECRETS = sorted(
    variable_of(name) for group in GROUPS for name, f in group.model_fields.items() if SECRET in f.metadata
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MFO_"):
            monkeypatch.delenv(name)


def problems(monkeypatch: pytest.MonkeyPatch, **variables: str) -> tuple[str, ...]:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(InvalidSettings) as refused:
        Settings.from_env()
    return refused.value.problems


def test_without_variables_every_setting_is_the_dataclasses_default() -> None:
    assert Settings.from_env() == Settings()
    for kind in (ApiSettings, AuthSettings, CrewAISettings, DatabaseSettings, IdempotencySettings, LegacySettings):
        assert kind.from_env() == kind()
    for kind in (LLMSettings, ObservabilitySettings, WorkerSettings):
        assert kind.from_env() == kind()


def test_every_group_reads_its_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "MFO_DB_POOL_SIZE": "3",
        "MFO_DATA_DIR": "/srv/mfo",
        "MFO_PORT": "9000",
        "MFO_DEBUG": "yes",
        "MFO_CREWAI_FLOW_TYPES": "discovery, planning",
        "MFO_AUTH_MODE": " DEV ",
        "MFO_OTEL_EXPORTER": "Console",
        "MFO_LOG_LEVEL": "debug",
        "MFO_WORKER_IN_SERVE": "off",
        "MFO_WORKER_LEASE_SECONDS": "12.5",
        "MFO_ALERT_WEBHOOK_URL": "https://hooks.example/mfo",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert (settings.database.pool_size, settings.database.data_dir) == (3, Path("/srv/mfo"))
    assert (settings.api.port, settings.api.debug) == (9000, True)
    assert settings.crewai.flow_types == ("discovery", "planning")
    assert (settings.auth.mode, settings.observability.otel_exporter) == ("dev", "console")
    assert settings.observability.log_level == "DEBUG"
    assert (settings.worker.in_serve, settings.worker.lease_seconds) == (False, 12.5)
    assert settings.observability.alert_webhook_url == "https://hooks.example/mfo"


def test_an_empty_variable_is_an_unset_one_except_the_bridged_flow_types(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MFO_DB_POOL_SIZE", "")
    monkeypatch.setenv("MFO_HOST", "  ")
    monkeypatch.setenv("MFO_CREWAI_FLOW_TYPES", "")
    settings = Settings.from_env()
    assert (settings.database.pool_size, settings.api.host) == (10, "127.0.0.1")
    assert settings.crewai.flow_types == ()


def test_every_problem_of_every_group_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    found = problems(
        monkeypatch,
        MFO_DB_POOL_SIZE="ten",
        MFO_PORT="70000",
        MFO_MAX_HEADER_COUNT="0",
        MFO_LEGACY_SUNSET="soon",
        MFO_AUTH_MODE="open",
        MFO_LLM_BASE_URL="http://127.0.0.1:9/v1",
        MFO_WORKER_HEARTBEAT_SECONDS="40",
        MFO_WORKER_CONCURRENCY="many",
        MFO_METRICS_CACHE_SECONDS="-1",
        MFO_LOG_FORMAT="xml",
        MFO_IDEMPOTENCY_WAIT_MS="40000",
    )
    assert found == (
        "MFO_DB_POOL_SIZE must be a whole number, not 'ten'",
        "MFO_PORT must be at most 65535, not '70000'",
        "MFO_MAX_HEADER_COUNT must be at least 1, not '0'",
        "MFO_LLM_MODEL, MFO_LLM_API_KEY not set: MFO_LLM_BASE_URL, MFO_LLM_MODEL, MFO_LLM_API_KEY configure the LLM "
        "together (all three or none)",
        "MFO_LEGACY_SUNSET must be an ISO 8601 date such as 2027-06-30, not 'soon'",
        "MFO_AUTH_MODE must be one of 'production' or 'dev', not 'open'",
        "MFO_WORKER_HEARTBEAT_SECONDS must be positive and shorter than MFO_WORKER_LEASE_SECONDS (40 s, lease 30 s)",
        "MFO_WORKER_CONCURRENCY must be a whole number, not 'many'",
        "MFO_LOG_FORMAT must be one of 'json' or 'text', not 'xml'",
        "MFO_METRICS_CACHE_SECONDS must be at least 0, not '-1'",
        "MFO_IDEMPOTENCY_WAIT_MS (40000) must be shorter than MFO_DB_STATEMENT_TIMEOUT_MS (30000): a retry waiting "
        "for the first request would otherwise end as a timeout (503) instead of 409 idempotency-key-in-progress",
    )


def test_the_message_counts_the_problems_and_lists_each_on_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MFO_PORT", "x")
    monkeypatch.setenv("MFO_DEBUG", "maybe")
    with pytest.raises(SystemExit) as refused:
        Settings.from_env()
    assert str(refused.value) == (
        "mfo: 2 settings are invalid:\n"
        "  MFO_PORT must be a whole number, not 'x'\n"
        "  MFO_DEBUG must be true or false (1/0, yes/no, on/off), not 'maybe'"
    )


def test_a_rule_between_variables_is_checked_whatever_else_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    found = problems(monkeypatch, MFO_DB_POOL_SIZE="ten", MFO_IDEMPOTENCY_WAIT_MS="30000", MFO_LLM_MODEL="m")
    assert len(found) == 3
    assert found[0].startswith("MFO_DB_POOL_SIZE") and found[-1].startswith("MFO_IDEMPOTENCY_WAIT_MS (30000)")
    assert found[1].startswith("MFO_LLM_BASE_URL, MFO_LLM_API_KEY not set")


def test_a_secret_is_never_repeated_in_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    found = problems(monkeypatch, MFO_DATABASE_URL="mysql://ada:hunter2@db/mfo", MFO_ALERT_WEBHOOK_URL="hook-t0ken")
    assert found == (
        "MFO_DATABASE_URL must be a PostgreSQL URL (postgresql://user:password@host/database)",
        "MFO_ALERT_WEBHOOK_URL must be an http:// or https:// URL",
    )


def test_every_secret_has_a_file_variant() -> None:
    assert SECRETS == [
        "MFO_ALERT_WEBHOOK_URL",
        "MFO_APP_DATABASE_URL",
        "MFO_APP_DB_PASSWORD",
        "MFO_DATABASE_PASSWORD",
        "MFO_DATABASE_URL",
        "MFO_DB_LISTEN_URL",
        "MFO_JWT_PRIVATE_KEY",
        "MFO_JWT_PUBLIC_KEY",
        "MFO_JWT_SECRET",
        "MFO_LLM_API_KEY",
    ]


PEM = "-----BEGIN {kind} KEY-----\nMIIB\n-----END {kind} KEY-----"
SECRET_VALUES = {
    "MFO_ALERT_WEBHOOK_URL": ("https://hooks.example/T0/B1/s3cret", lambda s: s.observability.alert_webhook_url),
    "MFO_APP_DATABASE_URL": ("postgresql://mfo_app:pw@db/mfo", lambda s: s.database.app_url),
    "MFO_APP_DB_PASSWORD": ("app pass", lambda s: s.database.app_password),
    "MFO_DATABASE_URL": ("postgresql://owner:pw@db/mfo", lambda s: s.database.url),
    "MFO_DB_LISTEN_URL": ("postgresql://owner:pw@db:5432/mfo", lambda s: s.database.listen_url),
    "MFO_JWT_PRIVATE_KEY": (PEM.format(kind="PRIVATE"), lambda s: s.auth.jwt_private_key),
    "MFO_JWT_PUBLIC_KEY": (PEM.format(kind="PUBLIC"), lambda s: s.auth.jwt_public_key),
    "MFO_JWT_SECRET": ("hs256 secret", lambda s: s.auth.jwt_secret),
}


@pytest.mark.parametrize("variable", sorted(SECRET_VALUES))
def test_a_secret_comes_from_the_file_its_file_variable_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str
) -> None:
    value, read_back = SECRET_VALUES[variable]
    secret = tmp_path / "secret"
    secret.write_text(f"{value}\n")  # as `echo` and most secret stores write it
    monkeypatch.setenv(f"{variable}_FILE", str(secret))
    expected = value.replace("postgresql://", "postgresql+asyncpg://")
    assert read_back(Settings.from_env()) == expected


def test_the_llm_key_and_the_database_password_come_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "key").write_text("sk-from-file\n")
    (tmp_path / "password").write_text("p@ss/word\n")
    monkeypatch.setenv("MFO_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MFO_LLM_MODEL", "m")
    monkeypatch.setenv("MFO_LLM_API_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("MFO_DATABASE_URL", "postgresql://owner@db:5432/mfo")
    monkeypatch.setenv("MFO_DATABASE_PASSWORD_FILE", str(tmp_path / "password"))
    settings = Settings.from_env()
    assert settings.llm.api_key == "sk-from-file"
    assert settings.database.url == "postgresql+asyncpg://owner:p%40ss%2Fword@db:5432/mfo"


def test_the_database_password_replaces_the_one_in_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MFO_DATABASE_URL", "postgres://owner:old@db/mfo?sslmode=require")
    monkeypatch.setenv("MFO_DATABASE_PASSWORD", "new")
    assert Settings.from_env().database.url == "postgresql+asyncpg://owner:new@db/mfo?sslmode=require"


def test_file_variants_that_give_no_value_are_problems(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    (tmp_path / "secret").write_text("s\n")
    found = problems(
        monkeypatch,
        MFO_JWT_SECRET="direct",
        MFO_JWT_SECRET_FILE=str(tmp_path / "secret"),
        MFO_LLM_API_KEY_FILE=str(tmp_path / "missing"),
        MFO_APP_DB_PASSWORD_FILE=str(tmp_path / "empty"),
        MFO_DB_POOL_SIZE="0",
    )
    assert sorted(found) == [
        f"MFO_APP_DB_PASSWORD_FILE: {tmp_path / 'empty'} is empty",
        "MFO_DB_POOL_SIZE must be at least 1, not '0'",
        "MFO_JWT_SECRET and MFO_JWT_SECRET_FILE are both set: set only one of them",
        f"MFO_LLM_API_KEY_FILE: cannot read {tmp_path / 'missing'}: No such file or directory",
    ]


def test_mfo_serve_refuses_bad_settings_with_one_message_and_no_traceback() -> None:
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("MFO_")},
        "MFO_DB_POOL_SIZE": "ten",
        "MFO_AUTH_MODE": "open",
        "MFO_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
    }
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "serve"], env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "mfo: 2 settings are invalid:\n"
        "  MFO_DB_POOL_SIZE must be a whole number, not 'ten'\n"
        "  MFO_AUTH_MODE must be one of 'production' or 'dev', not 'open'"
    )
    assert "Traceback" not in done.stdout + done.stderr


def test_the_readme_tables_are_the_ones_the_settings_make() -> None:
    text = README.read_text()
    assert text.count("<!-- settings-table: ") == 3
    assert rendered(text) == text, "README.md's settings tables are out of date: run make settings-doc"


def test_the_tables_list_every_variable_once_with_its_default() -> None:
    listed = [table(name) for name in ("configuration", "workers", "monitoring")]
    rows = [line for text in listed for line in text.splitlines()[2:]]
    fields = [name for group in GROUPS for name in group.model_fields]
    assert len(rows) == len(fields)
    assert "| `MFO_DB_POOL_SIZE` | `10` |" in listed[0]
    assert "| `MFO_JWT_SECRET` or `MFO_JWT_SECRET_FILE` | (none) |" in listed[0]
    assert "| `MFO_WORKER_POLL_SECONDS` | `0.5` |" in listed[1]
    assert "| `MFO_LEGACY_SUNSET` | `2027-06-30` |" in listed[0]
    with pytest.raises(ValueError, match="no settings belong"):
        table("nothing")
