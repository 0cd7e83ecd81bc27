"""execution contracts: flows.contract, recorded at creation (a flow type's version and how it runs)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:30:00

Every flow records what it runs under (ADR 0018): its flow type's version, its phases, its input phases, each
phase's policy, and whether its phases run through the CrewAI bridge. Flows that exist are given a contract here,
from what their rows show:

- version 1 (no flow type had versions before);
- the phases of their row, in its order;
- the input phases of the built-in types as they are at this revision (discovery: ``field_mapping``, assessment:
  ``recommendation_review``, planning: none), none for any other type;
- no recorded policy: such a flow's phases run under the policies version 1 of its type declares;
- the bridge when, and only when, the flow has a stored CrewAI state: the bridge writes one in the transaction
  that creates the flow, and nothing else ever writes one, so a flow without one never ran through it.

The SQL is written out here: a migration does not import the code it migrates for.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE flows f SET contract = jsonb_build_object(
    'version', 1,
    'phases', (
        SELECT coalesce(jsonb_agg(p.phase -> 'name' ORDER BY p.n), '[]'::jsonb)
        FROM jsonb_array_elements(f.phases) WITH ORDINALITY AS p (phase, n)
    ),
    'input_phases', CASE f.flow_type
        WHEN 'discovery' THEN '["field_mapping"]'::jsonb
        WHEN 'assessment' THEN '["recommendation_review"]'::jsonb
        ELSE '[]'::jsonb END,
    'policies', '{}'::jsonb,
    'bridged', EXISTS (
        SELECT 1 FROM crewai_flow_states s
        WHERE s.client_account_id = f.client_account_id AND s.engagement_id = f.engagement_id
          AND s.flow_id = f.flow_id
    )
)
"""


def upgrade() -> None:
    op.add_column('flows', sa.Column('contract', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.execute(BACKFILL)
    op.alter_column('flows', 'contract', nullable=False)


def downgrade() -> None:
    op.drop_column('flows', 'contract')
