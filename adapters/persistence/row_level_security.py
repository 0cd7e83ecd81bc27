"""Row-level security: the SQL the migrations run, in one place (docs/security.md).

The application connects as a role (``mfo_app`` unless ``MFO_APP_DB_ROLE`` says otherwise) that owns no table and
cannot bypass row-level security; migrations, the consistency auditor and ``mfo api-key`` connect as the schema's
owner, which row-level security does not restrict (the tables do not ``FORCE`` it).

Each tenant table gets one policy, ``tenant_isolation``: a row is visible and writable only when its tenant equals
the one the transaction set with ``set_config('mfo.client_account_id', ..., true)`` and
``set_config('mfo.engagement_id', ..., true)`` (the unit of work's ``scope``). A transaction that set none sees no
row.

A migration imports no live code (``tests/unit/test_migrations_import_no_live_code.py``): 0007 holds a frozen copy of
what these functions emitted when it was written, and a later migration adding a tenant table writes the two
statements of :func:`tenant_isolation_sql` itself (as 0010 does). ``child_tables.py`` uses that function for a
plugin's child table.
"""

from __future__ import annotations

import re
from typing import Any

CLIENT_SETTING = "mfo.client_account_id"
ENGAGEMENT_SETTING = "mfo.engagement_id"
POLICY = "tenant_isolation"
DEFAULT_APP_ROLE = "mfo_app"

TENANT_PREDICATE = (
    f"client_account_id = NULLIF(current_setting('{CLIENT_SETTING}', true), '')::uuid"
    f" AND engagement_id = NULLIF(current_setting('{ENGAGEMENT_SETTING}', true), '')::uuid"
)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def identifier(name: str) -> str:
    """``name`` if it is a plain lower-case SQL identifier (it is put into DDL unquoted), else ValueError."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a plain lower-case SQL identifier")
    return name


def tenant_isolation_sql(table: str) -> list[str]:
    table = identifier(table)
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY {POLICY} ON {table} USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})",
    ]


def enable_tenant_isolation(op: Any, table: str) -> None:
    """In a migration: ``enable_tenant_isolation(op, "my_table")`` for a table with the two tenant columns."""
    for statement in tenant_isolation_sql(table):
        op.execute(statement)


def disable_tenant_isolation(op: Any, table: str) -> None:
    table = identifier(table)
    op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def app_role_sql(role: str) -> list[str]:
    """Create the application's login role if missing (refusing one that could bypass row-level security) and
    grant it the data, not the schema: every current and future table and sequence the migrating role creates."""
    role = identifier(role)
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
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
        f"REVOKE ALL ON alembic_version FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON api_keys FROM {role}",
    ]


def revoke_app_role_sql(role: str) -> list[str]:
    role = identifier(role)
    return [
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"REVOKE USAGE ON SCHEMA public FROM {role}",
    ]
