"""consistency audit runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'consistency_audit_runs',
        sa.Column('run_id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('trigger', sa.String(length=32), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('flows_checked', sa.BigInteger(), nullable=False),
        sa.Column('inconsistent', sa.BigInteger(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('findings', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint('run_id', name=op.f('pk_consistency_audit_runs')),
    )


def downgrade() -> None:
    op.drop_table('consistency_audit_runs')
