"""flows: extended statistics on the tenant columns, so a list page's cached plan reads the index in order

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 11:00:00

``client_account_id`` and ``engagement_id`` go together (one engagement belongs to one account), but the planner
multiplies their selectivities as if independent: with 100 tenants it expected 100 rows per tenant, not 10,000. The
generic plan PostgreSQL caches for a prepared statement after five executions then sorted every row of the tenant
for a cursor page (a bitmap scan and a sort) instead of reading ``ix_flows_tenant_created`` in order and stopping at
the page (measured in docs/performance.md). ``dependencies`` and ``ndistinct`` tell it the truth; ``ANALYZE`` fills
them in at once.
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        'CREATE STATISTICS IF NOT EXISTS flows_tenant_statistics (dependencies, ndistinct) '
        'ON client_account_id, engagement_id FROM flows'
    )
    op.execute('ANALYZE flows')


def downgrade() -> None:
    op.execute('DROP STATISTICS IF EXISTS flows_tenant_statistics')
