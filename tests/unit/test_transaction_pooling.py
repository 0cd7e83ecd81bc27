"""What changes behind PgBouncer in transaction pooling mode (ADR 0017): the settings that leave the session for the
transaction, asyncpg's statement cache, and where a runner listens for due work."""

from __future__ import annotations

from uuid import UUID

import pytest

from adapters.persistence.database import Database, PoolOptions, statement_cache_arguments
from adapters.persistence.phase_runs import PgPhaseQueue
from adapters.persistence.tenant_scope import begin_scoped
from domain.events import Tenant
from entrypoints.container import listen_database_url
from entrypoints.settings import DatabaseSettings, Settings

TENANT = Tenant(UUID("11111111-1111-1111-1111-111111111111"), UUID("22222222-2222-2222-2222-222222222222"))
OWNER = "postgresql+asyncpg://mfo@bouncer:6432/mfo"


def test_directly_the_session_carries_the_timeouts_and_the_transaction_only_the_tenant() -> None:
    options = PoolOptions(statement_timeout_ms=1234, lock_timeout_ms=567)
    assert options.session_settings() == {
        "statement_timeout": "1234",
        "lock_timeout": "567",
        "application_name": "mfo",
    }
    assert options.transaction_settings() == {}
    assert statement_cache_arguments(options) == {}  # asyncpg's own default: cached, named statements
    assert begin_scoped(TENANT, options.transaction_settings()) == begin_scoped(TENANT)


def test_behind_pgbouncer_every_transaction_sets_the_timeouts_itself() -> None:
    options = PoolOptions(statement_timeout_ms=1234, lock_timeout_ms=567, transaction_pooling=True)
    assert options.session_settings() == {"application_name": "mfo"}  # PgBouncer refuses the others
    assert statement_cache_arguments(options) == {"statement_cache_size": 0}
    assert begin_scoped(TENANT, options.transaction_settings()) == (
        "BEGIN; SELECT set_config('statement_timeout', '1234', true), set_config('lock_timeout', '567', true), "
        "set_config('mfo.client_account_id', '11111111-1111-1111-1111-111111111111', true), "
        "set_config('mfo.engagement_id', '22222222-2222-2222-2222-222222222222', true)"
    )
    assert begin_scoped(None, options.transaction_settings()) == (
        "BEGIN; SELECT set_config('statement_timeout', '1234', true), set_config('lock_timeout', '567', true)"
    )
    assert begin_scoped(None, {}) == "BEGIN"


@pytest.mark.parametrize(
    "name, value",
    [("statement_timeout", "1'); DROP TABLE flows; --"), ("lock timeout", "5"), ("Search_Path", "x"), ("a", "1 2")],
)
def test_a_setting_that_is_more_than_a_plain_name_and_value_is_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match="cannot be set"):
        begin_scoped(TENANT, {name: value})


def test_the_runner_listens_on_the_owners_url_directly_and_behind_pgbouncer_only_where_told() -> None:
    direct = Settings(database=DatabaseSettings(url=OWNER))
    assert listen_database_url(direct) == OWNER
    polling = Settings(database=DatabaseSettings(url=OWNER, pgbouncer=True))
    assert listen_database_url(polling) is None
    told = Settings(database=DatabaseSettings(url=OWNER, pgbouncer=True, listen_url="postgresql+asyncpg://pg/mfo"))
    assert listen_database_url(told) == "postgresql+asyncpg://pg/mfo"


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MFO_DB_PGBOUNCER", "true")
    monkeypatch.setenv("MFO_DB_LISTEN_URL", "postgresql://mfo@pg:5432/mfo")
    settings = DatabaseSettings.from_env()
    assert settings.pgbouncer is True and settings.listen_url == "postgresql+asyncpg://mfo@pg:5432/mfo"
    monkeypatch.setenv("MFO_DB_PGBOUNCER", "maybe")
    with pytest.raises(SystemExit, match="MFO_DB_PGBOUNCER"):
        DatabaseSettings.from_env()
    monkeypatch.delenv("MFO_DB_PGBOUNCER")
    monkeypatch.delenv("MFO_DB_LISTEN_URL")
    assert DatabaseSettings.from_env().pgbouncer is False and DatabaseSettings.from_env().listen_url is None


async def test_with_nothing_to_listen_on_the_queue_listens_to_nothing_and_raises_nothing() -> None:
    queue = PgPhaseQueue(Database(OWNER), url=None)  # no connection is made: the pool opens on first use
    woken: list[bool] = []
    for _ in range(2):  # every poll of the runner asks again: it must stay quiet
        await queue.listen(lambda: woken.append(True))
        assert queue.listening is False
    await queue.unlisten()
    assert woken == []
