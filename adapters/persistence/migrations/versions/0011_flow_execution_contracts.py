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

Each flow's creation event (version 1) gets the same contract in its data, as a flow created from now on records it
there, so that replaying the event log still gives the stored flow. The SQL is written out here: a migration does
not import the code it migrates for.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
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


CREATION_EVENTS = """
UPDATE flow_events e SET data = e.data || jsonb_build_object('contract', f.contract)
FROM flows f
WHERE e.version = 1 AND e.client_account_id = f.client_account_id AND e.engagement_id = f.engagement_id
  AND e.flow_id = f.flow_id AND NOT e.data ? 'contract'
"""


def upgrade() -> None:
    op.add_column("flows", sa.Column("contract", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.execute(BACKFILL)
    op.alter_column("flows", "contract", nullable=False)
    op.execute(CREATION_EVENTS)


REFUSE_MIGRATED_FLOWS = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM flow_events WHERE operation = 'migrate') THEN
    RAISE EXCEPTION 'flows were migrated to another version of their type (flow_events with operation migrate): '
      'the code before 0011 cannot read those events, so this downgrade would leave their logs unreadable';
  END IF;
END
$$
"""


def downgrade() -> None:
    op.execute(REFUSE_MIGRATED_FLOWS)
    op.execute("UPDATE flow_events SET data = data - 'contract' WHERE version = 1")
    op.drop_column("flows", "contract")
