"""create flows, flow events and discovery flows

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 12:01:09.661591
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('flows',
    sa.Column('client_account_id', sa.Uuid(), nullable=False),
    sa.Column('engagement_id', sa.Uuid(), nullable=False),
    sa.Column('flow_id', sa.Uuid(), nullable=False),
    sa.Column('flow_type', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('current_phase', sa.String(length=64), nullable=True),
    sa.Column('phases', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('configuration', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('phase_results', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('initialized', 'running', 'paused', 'waiting_for_input', 'completed', 'failed', 'cancelled', 'deleted')", name=op.f('ck_flows_status')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_flows_version')),
    sa.PrimaryKeyConstraint('client_account_id', 'engagement_id', 'flow_id', name=op.f('pk_flows'))
    )
    op.create_index('ix_flows_tenant_created', 'flows', ['client_account_id', 'engagement_id', sa.literal_column('created_at DESC'), sa.literal_column('flow_id DESC')], unique=False)
    op.create_index('ix_flows_tenant_type_status', 'flows', ['client_account_id', 'engagement_id', 'flow_type', 'status', sa.literal_column('created_at DESC'), sa.literal_column('flow_id DESC')], unique=False)
    op.create_table('discovery_flows',
    sa.Column('client_account_id', sa.Uuid(), nullable=False),
    sa.Column('engagement_id', sa.Uuid(), nullable=False),
    sa.Column('flow_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('master_version', sa.Integer(), nullable=False),
    sa.Column('progress_percent', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data_import_completed', sa.Boolean(), nullable=False),
    sa.Column('field_mapping_completed', sa.Boolean(), nullable=False),
    sa.Column('data_cleansing_completed', sa.Boolean(), nullable=False),
    sa.Column('asset_inventory_completed', sa.Boolean(), nullable=False),
    sa.Column('dependency_analysis_completed', sa.Boolean(), nullable=False),
    sa.Column('tech_debt_assessment_completed', sa.Boolean(), nullable=False),
    sa.Column('field_mappings', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('asset_count', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'in_progress', 'paused', 'awaiting_input', 'complete', 'error', 'cancelled', 'archived')", name=op.f('ck_discovery_flows_status')),
    sa.ForeignKeyConstraint(['client_account_id', 'engagement_id', 'flow_id'], ['flows.client_account_id', 'flows.engagement_id', 'flows.flow_id'], name='fk_discovery_flows_flows'),
    sa.PrimaryKeyConstraint('client_account_id', 'engagement_id', 'flow_id', name=op.f('pk_discovery_flows'))
    )
    op.create_table('flow_events',
    sa.Column('client_account_id', sa.Uuid(), nullable=False),
    sa.Column('engagement_id', sa.Uuid(), nullable=False),
    sa.Column('flow_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('operation', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('from_status', sa.String(length=32), nullable=True),
    sa.Column('to_status', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['client_account_id', 'engagement_id', 'flow_id'], ['flows.client_account_id', 'flows.engagement_id', 'flows.flow_id'], name='fk_flow_events_flows'),
    sa.PrimaryKeyConstraint('client_account_id', 'engagement_id', 'flow_id', 'version', name=op.f('pk_flow_events'))
    )
    


def downgrade() -> None:
    
    op.drop_table('flow_events')
    op.drop_table('discovery_flows')
    op.drop_index('ix_flows_tenant_type_status', table_name='flows')
    op.drop_index('ix_flows_tenant_created', table_name='flows')
    op.drop_table('flows')
    
