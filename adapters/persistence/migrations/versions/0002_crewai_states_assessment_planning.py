"""crewai flow states, assessment and planning flows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:13:09.017008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('assessment_flows',
    sa.Column('client_account_id', sa.Uuid(), nullable=False),
    sa.Column('engagement_id', sa.Uuid(), nullable=False),
    sa.Column('flow_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('master_version', sa.Integer(), nullable=False),
    sa.Column('progress_percent', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('discovery_flow_id', sa.Uuid(), nullable=True),
    sa.Column('application_count', sa.Integer(), nullable=True),
    sa.Column('strategy_counts', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'in_progress', 'paused', 'awaiting_input', 'complete', 'error', 'cancelled', 'archived')", name=op.f('ck_assessment_flows_status')),
    sa.ForeignKeyConstraint(['client_account_id', 'engagement_id', 'flow_id'], ['flows.client_account_id', 'flows.engagement_id', 'flows.flow_id'], name='fk_assessment_flows_flows'),
    sa.PrimaryKeyConstraint('client_account_id', 'engagement_id', 'flow_id', name=op.f('pk_assessment_flows'))
    )
    op.create_table('crewai_flow_states',
    sa.Column('client_account_id', sa.Uuid(), nullable=False),
    sa.Column('engagement_id', sa.Uuid(), nullable=False),
    sa.Column('flow_id', sa.Uuid(), nullable=False),
    sa.Column('state_id', sa.String(length=64), nullable=False),
    sa.Column('flow_type', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('master_version', sa.Integer(), nullable=False),
    sa.Column('state', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_account_id', 'engagement_id', 'flow_id'], ['flows.client_account_id', 'flows.engagement_id', 'flows.flow_id'], name='fk_crewai_flow_states_flows'),
    sa.PrimaryKeyConstraint('client_account_id', 'engagement_id', 'flow_id', name=op.f('pk_crewai_flow_states'))
    )
    op.create_table('planning_flows',
    sa.Column('client_account_id', sa.Uuid(), nullable=False),
    sa.Column('engagement_id', sa.Uuid(), nullable=False),
    sa.Column('flow_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('master_version', sa.Integer(), nullable=False),
    sa.Column('progress_percent', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assessment_flow_id', sa.Uuid(), nullable=True),
    sa.Column('application_count', sa.Integer(), nullable=True),
    sa.Column('wave_count', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'in_progress', 'paused', 'awaiting_input', 'complete', 'error', 'cancelled', 'archived')", name=op.f('ck_planning_flows_status')),
    sa.ForeignKeyConstraint(['client_account_id', 'engagement_id', 'flow_id'], ['flows.client_account_id', 'flows.engagement_id', 'flows.flow_id'], name='fk_planning_flows_flows'),
    sa.PrimaryKeyConstraint('client_account_id', 'engagement_id', 'flow_id', name=op.f('pk_planning_flows'))
    )
    


def downgrade() -> None:
    
    op.drop_table('planning_flows')
    op.drop_table('crewai_flow_states')
    op.drop_table('assessment_flows')
    
