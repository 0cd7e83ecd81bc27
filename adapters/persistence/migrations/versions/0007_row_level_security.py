"""row-level security: the application role and a tenant policy on every tenant table

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 15:00:00

The role's name comes from the Alembic option ``mfo_app_role`` (``mfo migrate`` passes ``MFO_APP_DB_ROLE``); its
password is set after the migrations by ``adapters.persistence.migrate.upgrade``.
"""

from __future__ import annotations

from alembic import context, op

from adapters.persistence.row_level_security import (
    DEFAULT_APP_ROLE,
    app_role_sql,
    disable_tenant_isolation,
    enable_tenant_isolation,
    revoke_app_role_sql,
)

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TENANT_TABLES = (
    'flows', 'flow_events', 'discovery_flows', 'assessment_flows', 'planning_flows', 'crewai_flow_states',
    'background_phase_attempts', 'idempotency_keys',
)


def _role() -> str:
    return context.config.get_main_option('mfo_app_role') or DEFAULT_APP_ROLE


def upgrade() -> None:
    for statement in app_role_sql(_role()):
        op.execute(statement)
    for table in TENANT_TABLES:
        enable_tenant_isolation(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_isolation(op, table)
    for statement in revoke_app_role_sql(_role()):
        op.execute(statement)
