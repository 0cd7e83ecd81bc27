"""MasterFlowOrchestrator: the only entry point for flow operations.

It is the commands (application/commands.py: each state change one transaction on the unit of work it was given),
the migrations to another version of a flow's type (application/migrations.py) and the queries
(application/queries.py) over one unit of work, one flow-type registry and one clock. The
background phase runner (application/phase_runner.py) is the third part, used by queue workers. None of them
opens a session: the composition root gives each a fresh unit of work (one per request).
"""

from __future__ import annotations

from application.commands import FlowCommands
from application.migrations import FlowMigrations
from application.queries import FlowQueries


class MasterFlowOrchestrator(FlowCommands, FlowMigrations, FlowQueries):
    """Every operation on flows: see :class:`FlowCommands` and :class:`FlowQueries`."""
