"""Every table MFO's migrations manage: the master tables and each built-in flow type's child table."""

from __future__ import annotations

import adapters.auth.api_keys
import adapters.crewai_bridge.state_store
import adapters.flow_types.assessment.service
import adapters.flow_types.discovery.child_record
import adapters.flow_types.planning.service  # registers planning_flows
import adapters.persistence.audit_runs  # registers consistency_audit_runs
import adapters.persistence.idempotency_store  # registers idempotency_keys
import adapters.work_queue.outbox  # noqa: F401  (registers background_phase_attempts)
from adapters.persistence.tables import metadata

__all__ = ["metadata"]
