"""flows.trace_context: the trace of the change that left a flow due for a runner's claim of its next phase

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:30:00

A flow started with ``auto_run`` (or resumed, or left running by a completed phase or input) has its next phase
claimed later by a runner's poll, after the request that made it due has ended. The change records its trace
context (the propagator's text fields) here and in its event; the runner's claim continues it, so the background
phase is in the caller's trace (ADR 0022). NULL when no trace was recorded, and once any later change comes.
"""

from __future__ import annotations

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute('ALTER TABLE flows ADD COLUMN trace_context JSONB')


def downgrade() -> None:
    op.execute('ALTER TABLE flows DROP COLUMN trace_context')
