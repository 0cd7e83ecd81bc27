"""row-level security: the application role and a tenant policy on every tenant table

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 15:00:00

The role's name comes from the Alembic option ``mfo_app_role`` (``mfo migrate`` passes ``MFO_APP_DB_ROLE``); its
password is set after the migrations by ``adapters.persistence.migrate.upgrade``.

The SQL is frozen here, as it was when this migration was written (``adapters/persistence/row_level_security.py``
emitted the same): a migration never changes with the live code.
"""

from __future__ import annotations

import re

from alembic import context, op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TENANT_TABLES = (
    'flows', 'flow_events', 'discovery_flows', 'assessment_flows', 'planning_flows', 'crewai_flow_states',
    'background_phase_attempts', 'idempotency_keys',
)


DEFAULT_APP_ROLE = 'mfo_app'
POLICY = 'tenant_isolation'
TENANT_PREDICATE = (
    "client_account_id = NULLIF(current_setting('mfo.client_account_id', true), '')::uuid"
    " AND engagement_id = NULLIF(current_setting('mfo.engagement_id', true), '')::uuid"
)
_IDENTIFIER = re.compile(r'^[a-z_][a-z0-9_]{0,62}$')


def _identifier(name: str) -> str:
    """``name`` if it is a plain lower-case SQL identifier (it is put into DDL unquoted), else ValueError."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f'{name!r} is not a plain lower-case SQL identifier')
    return name


def _role() -> str:
    return _identifier(context.config.get_main_option('mfo_app_role') or DEFAULT_APP_ROLE)


def _app_role_sql(role: str) -> list[str]:
    """Create the application's login role if missing (refusing one that could bypass row-level security) and
    grant it the data, not the schema: every current and future table and sequence the migrating role creates."""
    return [
        f"""DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
        CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION NOINHERIT;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}' AND (rolsuper OR rolbypassrls)) THEN
        RAISE EXCEPTION 'the application role {role} must be NOSUPERUSER NOBYPASSRLS';
    END IF;
    IF pg_has_role('{role}', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'the application role {role} must not be a member of the owner %', current_user;
    END IF;
    BEGIN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO {role}', current_database());
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'not the database owner: {role} connects through PUBLIC''s CONNECT privilege';
    END;
END
$$""",
        f'GRANT USAGE ON SCHEMA public TO {role}',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}',
        f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}',
        f'REVOKE ALL ON alembic_version FROM {role}',
        f'REVOKE INSERT, UPDATE, DELETE ON api_keys FROM {role}',
    ]


def _revoke_app_role_sql(role: str) -> list[str]:
    return [
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {role}',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {role}',
        f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}',
        f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}',
        f'REVOKE USAGE ON SCHEMA public FROM {role}',
    ]


def upgrade() -> None:
    for statement in _app_role_sql(_role()):
        op.execute(statement)
    for table in TENANT_TABLES:
        op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY {POLICY} ON {table} USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})')


def downgrade() -> None:
    for table in TENANT_TABLES:
        op.execute(f'DROP POLICY IF EXISTS {POLICY} ON {table}')
        op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
    for statement in _revoke_app_role_sql(_role()):
        op.execute(statement)
