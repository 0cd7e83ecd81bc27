"""phase runs: flows.phase_run and run_due_at, phase_leases and phase_attempts; pgqueuer's tables dropped

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:00:00

A phase is claimed, run outside any transaction, and completed (ADR 0015). The flow's row says which attempt of
which phase it runs (``phase_run``) and when a runner should claim work of it (``run_due_at``, indexed where set):
the flows table is the queue. ``phase_leases`` holds the lease of each attempt in progress (renewed by its runner's
heartbeats, never by an event), ``phase_attempts`` every attempt and how it ended. pgqueuer's jobs and MFO's
counted starts are no longer written: their tables are dropped (the downgrade recreates them empty).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TENANT_PREDICATE = (
    "client_account_id = NULLIF(current_setting('mfo.client_account_id', true), '')::uuid"
    " AND engagement_id = NULLIF(current_setting('mfo.engagement_id', true), '')::uuid"
)


def _tenant_isolation(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
    )


def _tenant_key() -> list[sa.Column]:
    return [
        sa.Column('client_account_id', sa.Uuid(), nullable=False),
        sa.Column('engagement_id', sa.Uuid(), nullable=False),
        sa.Column('flow_id', sa.Uuid(), nullable=False),
    ]


def _master_reference(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ['client_account_id', 'engagement_id', 'flow_id'],
        ['flows.client_account_id', 'flows.engagement_id', 'flows.flow_id'],
        name=f'fk_{table}_flows',
    )


def upgrade() -> None:
    op.add_column('flows', sa.Column('phase_run', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('flows', sa.Column('run_due_at', sa.DateTime(timezone=True), nullable=True))
    # auto-run flows left running by the old queue: due now
    op.execute(
        "UPDATE flows SET run_due_at = updated_at WHERE auto_run AND status = 'running' "
        "AND phases @> '[{\"state\": \"pending\"}]'"
    )
    op.create_index(
        'ix_flows_run_due_at', 'flows', ['run_due_at'], unique=False, postgresql_where=sa.text('run_due_at IS NOT NULL')
    )
    op.create_table(
        'phase_leases',
        *_tenant_key(),
        sa.Column('run_id', sa.Uuid(), nullable=False),
        sa.Column('owner', sa.String(length=200), nullable=False),
        sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        _master_reference('phase_leases'),
        sa.PrimaryKeyConstraint('client_account_id', 'engagement_id', 'flow_id', name='pk_phase_leases'),
        sa.UniqueConstraint('run_id', name='uq_phase_leases_run_id'),
    )
    op.create_index('ix_phase_leases_expires_at', 'phase_leases', ['expires_at'])
    op.create_index('ix_phase_leases_owner', 'phase_leases', ['owner'])
    op.create_table(
        'phase_attempts',
        *_tenant_key(),
        sa.Column('run_id', sa.Uuid(), nullable=False),
        sa.Column('phase', sa.String(length=64), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=200), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('result', sa.String(length=32), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        _master_reference('phase_attempts'),
        sa.PrimaryKeyConstraint(
            'client_account_id', 'engagement_id', 'flow_id', 'run_id', name='pk_phase_attempts'
        ),
    )
    op.create_index(
        'ix_phase_attempts_flow_started',
        'phase_attempts',
        ['client_account_id', 'engagement_id', 'flow_id', sa.text('started_at DESC')],
    )
    for table in ('phase_leases', 'phase_attempts'):
        _tenant_isolation(table)
    op.drop_table('background_phase_attempts')
    for statement in _queue_migration().PGQUEUER_UNINSTALL:
        op.get_bind().exec_driver_sql(statement)


def downgrade() -> None:
    queue = _queue_migration()
    for statement in queue.PGQUEUER_INSTALL:
        op.get_bind().exec_driver_sql(statement)
    op.create_table(
        'background_phase_attempts',
        *_tenant_key(),
        sa.Column('flow_version', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            'client_account_id', 'engagement_id', 'flow_id', 'flow_version', name='pk_background_phase_attempts'
        ),
    )
    op.drop_table('phase_attempts')
    op.drop_table('phase_leases')
    op.drop_index('ix_flows_run_due_at', table_name='flows')
    op.drop_column('flows', 'run_due_at')
    op.drop_column('flows', 'phase_run')


def _queue_migration():  # noqa: ANN202 - the frozen statements of migration 0005, not live code
    """Migration 0005 (its file beside this one, loaded by path: no package of the live code is imported)."""
    path = Path(__file__).with_name('0005_background_work_queue.py')
    spec = importlib.util.spec_from_file_location('mfo_migration_0005', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
