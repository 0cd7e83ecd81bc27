"""Invariants after every commit: the harness's units of work run an audit of the whole (harness's own) database
each time they commit, so a claim's commit and a completion's are checked too, the ones inside a single
``execute`` included."""

from __future__ import annotations

from typing import Any

from adapters.persistence.audit import audit_sql
from adapters.persistence.unit_of_work import AsyncpgUnitOfWork
from entrypoints.container import Container

_RUNS_AGREE = """
SELECT 'lease of ' || coalesce(CAST(l.run_id AS text), 'no attempt') || ' on a ' || coalesce(f.status, 'missing')
       || ' flow running ' || coalesce(f.phase_run->>'run_id', 'no attempt') AS problem, flow_id
FROM flows f FULL JOIN phase_leases l USING (client_account_id, engagement_id, flow_id)
WHERE (f.phase_run->>'run_id') IS DISTINCT FROM CAST(l.run_id AS text)
   OR (l.run_id IS NOT NULL AND f.status NOT IN ('running', 'paused'))
UNION ALL
SELECT DISTINCT 'no attempt recorded for run ' || (e.data->'run'->>'run_id'), e.flow_id
FROM flow_events e
WHERE e.data->'run'->>'run_id' IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM phase_attempts a
    WHERE (a.client_account_id, a.engagement_id, a.flow_id) = (e.client_account_id, e.engagement_id, e.flow_id)
      AND CAST(a.run_id AS text) = e.data->'run'->>'run_id')
"""


class CommitAudit:
    """Run after every commit of the harness's units of work, over its whole database (it holds only the current
    example's flows): the consistency auditor's statement (child records and CrewAI states follow the master, the
    version is the number of events) and the leases and attempts against the flows. What it finds is kept for the
    next invariant check (a commit cannot fail the operation it ends)."""

    def __init__(self, container: Container) -> None:
        self._database = container.owner_database()
        tables = [d.child_table.name for d in container.flow_types().definitions()]
        self._audit = audit_sql(tables)  # whether a flow has a CrewAI state to compare: its recorded contract
        self.findings: list[str] = []
        self.commits = 0

    async def __call__(self) -> None:
        self.commits += 1
        async with self._database.connection() as connection:
            audited = await connection.fetch(self._audit, 10)
            runs = await connection.fetch(_RUNS_AGREE)
        self.findings += [f"flow {r['flow_id']} (v{r['version']}): {list(r['problems'])}" for r in audited]
        self.findings += [f"flow {r['flow_id']}: {r['problem']}" for r in runs]


class AuditedUnitOfWork(AsyncpgUnitOfWork):
    """The application's unit of work, with :class:`CommitAudit` after each commit."""

    def __init__(self, *args: Any, after_commit: CommitAudit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._after_commit = after_commit

    async def commit(self) -> None:
        await super().commit()
        await self._after_commit()
