"""api keys for the platform operator: role 'platform', no tenant

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:40:00

The platform operator (docs/security.md) runs the service, not a tenant's flows: its key carries the role
``platform`` and no tenant. Every other key still names both tenant columns; the check says so.
"""

from __future__ import annotations

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

PLATFORM_KEY_HAS_NO_TENANT = (
    "CASE WHEN role = 'platform' THEN client_account_id IS NULL AND engagement_id IS NULL "
    "ELSE client_account_id IS NOT NULL AND engagement_id IS NOT NULL END"
)


def upgrade() -> None:
    op.drop_constraint(op.f('ck_api_keys_role'), 'api_keys', type_='check')
    op.create_check_constraint(op.f('ck_api_keys_role'), 'api_keys', "role IN ('viewer', 'operator', 'admin', 'platform')")
    op.alter_column('api_keys', 'client_account_id', nullable=True)
    op.alter_column('api_keys', 'engagement_id', nullable=True)
    op.create_check_constraint(op.f('ck_api_keys_platform_key_has_no_tenant'), 'api_keys', PLATFORM_KEY_HAS_NO_TENANT)


def downgrade() -> None:
    op.execute("DELETE FROM api_keys WHERE role = 'platform'")
    op.drop_constraint(op.f('ck_api_keys_platform_key_has_no_tenant'), 'api_keys', type_='check')
    op.alter_column('api_keys', 'client_account_id', nullable=False)
    op.alter_column('api_keys', 'engagement_id', nullable=False)
    op.drop_constraint(op.f('ck_api_keys_role'), 'api_keys', type_='check')
    op.create_check_constraint(op.f('ck_api_keys_role'), 'api_keys', "role IN ('viewer', 'operator', 'admin')")
