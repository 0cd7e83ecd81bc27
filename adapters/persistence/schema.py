"""Every table MFO's migrations manage: the master tables and each built-in flow type's child table."""

from __future__ import annotations

import adapters.flow_types.discovery.child_record  # noqa: F401  (registers discovery_flows)
from adapters.persistence.tables import metadata

__all__ = ["metadata"]
