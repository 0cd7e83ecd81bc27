"""The consistency auditor: one set-based SQL statement over every flow of every tenant, or of one tenant.

A flow is reported when its child record is missing, its child status is not the one the master status maps to,
its child or its stored CrewAI state reflects another master version or status, its child's progress is not the
one its phases give, its CrewAI state's completed phases or waited-on phase are not the master's, a flow whose
contract runs it through the bridge has no stored CrewAI state, or its version differs from its number of events;
and when its phase run and its lease disagree (an attempt in progress with no lease, or a lease of another run; a
lease with no attempt in progress, or held by a completed, failed, cancelled or deleted flow), or its
``run_due_at`` is not when its work is due (domain.background.due_at).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from uuid import UUID

from adapters.persistence.database import Database
from domain.events import Tenant
from domain.lifecycle import FlowStatus
from domain.ports import AuditFinding, AuditReport
from domain.status_sync import child_status_for

WORK_MEM = "256MB"  # the grouping stays in memory up to millions of flows

BRIDGED = 16  # added to the master row's status code when its flow type runs through the CrewAI bridge
SHIFT = 32  # a view's integer: version * SHIFT + status code


def _listed(statuses: Iterable[str]) -> str:
    """``statuses`` as the quoted list an SQL ``IN (...)`` takes."""
    return ", ".join(f"'{status}'" for status in statuses)


def _code(column: str, statuses: Iterable[str]) -> str:
    """``column`` as a small integer: the position (from 1) of its value in ``statuses``, 0 for any other value."""
    cases = " ".join(f"WHEN '{value}' THEN {n}" for n, value in enumerate(statuses, start=1))
    return f"CASE {column} {cases} ELSE 0 END"


TENANT_COLUMNS = ("client_account_id", "engagement_id")


def tenant_condition(tenant_scoped: bool, first: int, prefix: str = "") -> str:
    """The ``WHERE`` of every table the audit reads: nothing, or the tenant's two columns (of the table ``prefix``
    names, with its dot) as the positional parameters ``$first`` (client account) and ``$first+1`` (engagement)."""
    if not tenant_scoped:
        return ""
    conditions = (f"{prefix}{column} = ${n}" for n, column in enumerate(TENANT_COLUMNS, start=first))
    return " WHERE " + " AND ".join(conditions)


def tenant_arguments(tenant: Tenant | None) -> list[UUID]:
    """The tenant's values for ``tenant_condition``'s parameters, in their order (none for every tenant)."""
    return [] if tenant is None else [tenant.client_account_id, tenant.engagement_id]


def flows_checked_sql(tenant_scoped: bool = False) -> str:
    """The flows the audit checks; when ``tenant_scoped``, the tenant is ``$1`` and ``$2``."""
    return "SELECT count(*) FROM flows" + tenant_condition(tenant_scoped, first=1)


TERMINAL = (FlowStatus.COMPLETED, FlowStatus.FAILED, FlowStatus.CANCELLED, FlowStatus.DELETED)
"""Statuses in which a flow runs no phase, so holds no lease."""


def due_at_sql(prefix: str = "") -> str:
    """When the flow's work is due, from its row (``prefix``: the flows table's alias and a dot), as
    ``domain.background.due_at`` computes it: a running flow's next attempt at its phase run's ``retry_at`` (none
    while an attempt is in progress), else an auto-run flow's next pending phase as of its last change."""
    p = prefix
    return (
        f"CASE WHEN {p}status = '{FlowStatus.RUNNING}' THEN CASE WHEN {p}phase_run IS NOT NULL"
        f" THEN CAST({p}phase_run ->> 'retry_at' AS timestamptz)"
        f' WHEN {p}auto_run AND {p}phases @> \'[{{"state": "pending"}}]\' THEN {p}updated_at END END'
    )


RUN_BITS = {"due": 1, "no_lease": 2, "other_run": 4, "orphan": 8, "ended": 16}
"""What a flow's row and its lease (if any) can disagree on, one bit each."""


def run_bits_sql() -> str:
    """The disagreements of a flow's row ``f`` with its lease ``l`` (NULL when it has none) as :data:`RUN_BITS`,
    NULL when there are none: ``run_due_at`` is not when its work is due; its attempt in progress holds no lease;
    its lease is another run's; it holds a lease with no attempt in progress, or in a status that runs none."""
    run = "f.phase_run ->> 'run_id'"
    terminal = _listed(TERMINAL)
    bits = RUN_BITS
    return (
        f"NULLIF(CASE WHEN f.run_due_at IS DISTINCT FROM {due_at_sql('f.')} THEN {bits['due']} ELSE 0 END"
        f" + CASE WHEN l.run_id IS NULL THEN CASE WHEN {run} IS NOT NULL THEN {bits['no_lease']} ELSE 0 END"
        f" WHEN f.status IN ({terminal}) THEN {bits['ended']}"
        f" WHEN {run} IS NULL THEN {bits['orphan']}"
        f" WHEN CAST({run} AS uuid) <> l.run_id THEN {bits['other_run']} ELSE 0 END, 0)"
    )


def completed_phases_sql(phases: str) -> str:
    """The names of the phases in the JSON array ``phases`` (the flows row's, ``{"name", "state"}`` each) that are
    completed, sorted and joined by commas ('' for none)."""
    return (
        f"coalesce((SELECT string_agg(p ->> 'name', ',' ORDER BY p ->> 'name') FROM jsonb_array_elements({phases}) p"
        " WHERE p ->> 'state' = 'completed'), '')"
    )


def state_completed_sql(state: str) -> str:
    """The phases a stored CrewAI state (``state``, its JSON document) lists as completed, sorted and joined by
    commas ('' for none)."""
    return (
        f"coalesce((SELECT string_agg(n, ',' ORDER BY n) FROM jsonb_array_elements_text("
        f"coalesce({state} -> 'completed_phases', '[]'::jsonb)) AS c (n)), '')"
    )


WAITING_STATUSES = (FlowStatus.WAITING_FOR_INPUT, FlowStatus.PAUSED)
"""The statuses in which a flow can wait on a phase for input (paused: when it was paused while waiting); in the
others the phase a mirror last waited on is history (a cancelled flow's), not a mirrored field."""


def waiting_for_sql(prefix: str = "f.") -> str:
    """The phase the flow waits on for input, from its row (domain.flow.Flow.waiting_for): its current phase when
    that phase is running but no attempt of it is, and its status is one of :data:`WAITING_STATUSES`."""
    p = prefix
    statuses = _listed(WAITING_STATUSES)
    return (
        f"CASE WHEN {p}status IN ({statuses}) AND {p}phase_run IS NULL AND {p}current_phase IS NOT NULL"
        f" AND {p}phases @> jsonb_build_array(jsonb_build_object('name', {p}current_phase, 'state', 'running'))"
        f" THEN {p}current_phase END"
    )


def state_waiting_sql(state: str, prefix: str = "f.") -> str:
    """The phase a stored CrewAI state waits on, compared where the master's can be (:data:`WAITING_STATUSES`)."""
    statuses = _listed(WAITING_STATUSES)
    return f"CASE WHEN {prefix}status IN ({statuses}) THEN {state} ->> 'waiting_for' END"


def progress_sql(phases: str) -> str:
    """A flow's progress from its phases (domain.flow.progress_percent_of): completed and skipped phases as a whole
    percent of all, rounded half to even as Python's ``round`` does; 100 without phases."""
    done = f"(SELECT count(*) FROM jsonb_array_elements({phases}) p WHERE p ->> 'state' IN ('completed', 'skipped'))"
    total = f"jsonb_array_length({phases})"
    return (
        f"(SELECT CASE WHEN t = 0 THEN 100 WHEN mod(200 * d, 2 * t) = t THEN (100 * d / t) + mod(100 * d / t, 2)"
        f" ELSE (200 * d + t) / (2 * t) END FROM (SELECT {done} AS d, {total} AS t) AS x)"
    )


def mirror_sql(completed: str, waiting: str) -> str:
    """What a CrewAI state mirrors of its master beside status and version, as one 64-bit hash."""
    return f"hashtextextended({completed} || '|' || coalesce({waiting}, ''), 0)"


def audit_sql(child_tables: Iterable[str], tenant_scoped: bool = False) -> str:
    """One pass: every stored view of every flow, grouped by flow id, and the groups that disagree.

    Before the grouping, every view is reduced to integers: ``version * 32 + status code``, where a status code is
    the position of the master status it stands for (so a child status is compared through ``child_status_for``)
    and the master row adds 16 when its recorded contract runs it through the CrewAI bridge (the flow's own
    ``contract``, never the deployment's setting); a child record's progress and the progress its master's phases
    give; and a hash of what a CrewAI state mirrors besides (its completed phases and the phase it waits on) and
    of the same derived from the master row. Each view fills its own columns and leaves the others NULL, so the
    one hash aggregate runs plain integer aggregates per row, without FILTER clauses; the master row's ``ctid``
    finds it again for the flows reported. Grouping by the flow id alone keeps the aggregate fast; the foreign keys
    from the child tables, CrewAI states and events to ``flows`` include the tenant, so these rows cannot belong to
    another tenant. The texts of a reported flow's child and CrewAI state are read back by key, for the report
    only. When a flow has more than one child record, the one reflecting the highest version is compared.

    The master row is read joined to its lease (``phase_leases`` has one per flow at most, and few: the attempts in
    progress, so it is the small side of a hash join), and gives what its phase run, its lease and its
    ``run_due_at`` disagree on as the bits of one more integer (:func:`run_bits_sql`), NULL when they agree.

    The limit is the parameter ``$1``. ``tenant_scoped``: every table read (flows, CrewAI states, events, each child
    table) is restricted to the tenant in the parameters ``$2`` (client account) and ``$3`` (engagement) (a tenant's
    own audit, over the tenant prefix of every index); otherwise every tenant's flows are read.
    """
    where = tenant_condition(tenant_scoped, first=2)
    tables = sorted(child_tables)
    statuses = [str(s) for s in FlowStatus]
    as_child = _code("status", [child_status_for(s) for s in FlowStatus])
    child = f"master_version * {SHIFT} + {as_child}"
    children = "".join(
        f"\n        UNION ALL SELECT flow_id, NULL, NULL, {child}, NULL, NULL, NULL, NULL, progress_percent, NULL, NULL"
        f" FROM {t}{where}"
        for t in tables
    )
    key = " AND ".join(f"v.{k} = f.{k}" for k in ("client_account_id", "engagement_id", "flow_id"))
    child_text = (
        "coalesce(" + ", ".join(f"(SELECT v.status FROM {table} v WHERE {key})" for table in tables) + ")"
        if tables
        else "NULL"
    )
    crewai_text = f"(SELECT v.status FROM crewai_flow_states v WHERE {key})"
    crewai_state = f"(SELECT v.state FROM crewai_flow_states v WHERE {key})"
    lease_text = f"(SELECT v.run_id::text FROM phase_leases v WHERE {key})"
    master_code, master_version = f"d.master % {BRIDGED}", f"d.master / {SHIFT}"
    child_code, child_version = f"d.child % {SHIFT}", f"d.child / {SHIFT}"
    crewai_code, crewai_version = f"d.crewai % {SHIFT}", f"d.crewai / {SHIFT}"
    state_completed, state_waiting = state_completed_sql(crewai_state), state_waiting_sql(crewai_state)
    checks = [
        ("d.master IS NULL", "'master row missing'"),
        ("d.children = 0", "'child record missing'"),
        ("d.children > 1", "'more than one child record'"),
        (
            f"{child_code} <> {master_code}",
            f"'child status ' || {child_text} || ' does not match master status ' || f.status",
        ),
        (
            f"{child_version} <> {master_version}",
            f"'child reflects version ' || {child_version} || ', master is at ' || {master_version}",
        ),
        (
            "d.child_progress <> d.master_progress",
            "'child progress is ' || d.child_progress || '%, the master''s phases give ' || d.master_progress || '%'",
        ),
        (f"d.master % {SHIFT} >= {BRIDGED} AND d.crewai IS NULL", "'CrewAI state missing'"),
        (
            f"{crewai_code} <> {master_code}",
            f"'CrewAI state status ' || {crewai_text} || ' does not match master status ' || f.status",
        ),
        (
            f"{crewai_version} <> {master_version}",
            f"'CrewAI state reflects version ' || {crewai_version} || ', master is at ' || {master_version}",
        ),
        (
            "d.crewai_mirror <> d.master_mirror",
            f"'CrewAI state lists completed phases [' || {state_completed} || '] and waits for '"
            f" || coalesce({state_waiting}, 'no phase') || '; the master has completed ['"
            f" || {completed_phases_sql('f.phases')} || '] and waits for '"
            f" || coalesce({waiting_for_sql()}, 'no phase')",
        ),
        (
            f"d.events <> {master_version} OR d.last_event <> {master_version}",
            f"'version ' || {master_version} || ' but ' || d.events || ' events'",
        ),
    ]
    run_checks = [
        (
            "no_lease",
            "'phase run ' || (f.phase_run ->> 'run_id') || ' is in progress but holds no lease'",
        ),
        ("other_run", f"'lease of run ' || {lease_text} || ', but the flow runs ' || (f.phase_run ->> 'run_id')"),
        ("orphan", f"'lease of run ' || {lease_text} || ' without an attempt in progress'"),
        ("ended", f"'a ' || f.status || ' flow holds a lease (run ' || {lease_text} || ')'"),
        (
            "due",
            "'run_due_at is ' || coalesce(f.run_due_at::text, 'not set') || ', but '"
            f" || coalesce('its work is due at ' || ({due_at_sql('f.')})::text, 'no work is due')",
        ),
    ]
    checks_all = [*checks, *((f"d.runs & {RUN_BITS[bit]} > 0", what) for bit, what in run_checks)]
    problems = ",\n        ".join(f"CASE WHEN {when} THEN {what} END" for when, what in checks_all)
    # the run checks are bits of one integer, NULL when none is set: one test finds them all
    disagree = "\n    OR ".join([*(f"coalesce({when}, false)" for when, _ in checks), "d.runs IS NOT NULL"])
    master = (
        f"f.version::bigint * {SHIFT} + {_code('f.status', statuses)}"
        f" + CASE WHEN (f.contract ->> 'bridged')::boolean THEN {BRIDGED} ELSE 0 END"
    )
    master_mirror = mirror_sql(completed_phases_sql("f.phases"), waiting_for_sql())
    lease_key = " AND ".join(f"l.{k} = f.{k}" for k in ("client_account_id", "engagement_id", "flow_id"))
    master_where = tenant_condition(tenant_scoped, first=2, prefix="f.")
    # a CrewAI state's status decides whether its waited-on phase is compared: its own status (it is compared
    # with the master's, and reported when they differ)
    state_mirror = mirror_sql(state_completed_sql("s.state"), state_waiting_sql("s.state", prefix="s."))
    return f"""
WITH grouped AS (
    SELECT flow_id, max(m) AS master, max(ref) AS master_ref, count(c) AS children, max(c) AS child,
           max(s) AS crewai, count(e) AS events, max(e) AS last_event, max(r) AS runs,
           max(mp) AS master_progress, max(cp) AS child_progress, max(mh) AS master_mirror, max(sh) AS crewai_mirror
    FROM (
        SELECT f.flow_id, {master}, f.ctid, NULL::bigint, NULL::bigint, NULL::integer, {run_bits_sql()},
               {progress_sql("f.phases")}, NULL::integer, {master_mirror}, NULL::bigint
        FROM flows f LEFT JOIN phase_leases l ON {lease_key}{master_where}
        UNION ALL SELECT s.flow_id, NULL, NULL, NULL, s.master_version * {SHIFT} + {_code("s.status", statuses)}, NULL,
               NULL, NULL, NULL, NULL, {state_mirror}
        FROM crewai_flow_states s{tenant_condition(tenant_scoped, first=2, prefix="s.")}
        UNION ALL SELECT flow_id, NULL, NULL, NULL, NULL, version, NULL, NULL, NULL, NULL, NULL
        FROM flow_events{where}{children}
    ) AS views (flow_id, m, ref, c, s, e, r, mp, cp, mh, sh)
    GROUP BY flow_id
), disagreeing AS (
    SELECT * FROM grouped d
    WHERE {disagree}
)
SELECT count(*) OVER () AS inconsistent, d.flow_id, f.client_account_id, f.engagement_id, f.flow_type, f.status,
       f.version, array_remove(ARRAY[
        {problems}
       ], NULL) AS problems
FROM disagreeing d LEFT JOIN flows f ON f.ctid = d.master_ref
ORDER BY d.flow_id
LIMIT $1
"""


class SqlConsistencyAuditor:
    """The audit, run on the schema owner's database (it reads every tenant): one read-only, repeatable-read
    transaction, so every view it compares is of the same instant."""

    def __init__(self, database: Database, child_tables: Iterable[str]) -> None:
        self._database = database
        self._child_tables = sorted(child_tables)

    async def audit(self, limit: int = 100, tenant: Tenant | None = None) -> AuditReport:
        """Every tenant's flows, or only ``tenant``'s (its counts and findings alone)."""
        scoped, tenant_ids = tenant is not None, tenant_arguments(tenant)
        started = time.perf_counter()
        async with (
            self._database.connection() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            await connection.execute(
                f"SET LOCAL work_mem = '{WORK_MEM}'; SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off"
            )
            checked = await connection.fetchval(flows_checked_sql(scoped), *tenant_ids)
            present = [
                table
                for table in self._child_tables
                if await connection.fetchval("SELECT to_regclass($1)", table) is not None
            ]
            sql = audit_sql(present, scoped)
            rows = await connection.fetch(sql, max(limit, 1), *tenant_ids)
        inconsistent = rows[0]["inconsistent"] if rows else 0
        findings = [
            AuditFinding(
                flow_id=row["flow_id"],
                tenant=Tenant(row["client_account_id"] or UUID(int=0), row["engagement_id"] or UUID(int=0)),
                flow_type=row["flow_type"] or "",
                status=row["status"] or "",
                version=row["version"] or 0,
                problems=tuple(row["problems"]),
            )
            for row in rows[: max(limit, 0)]
        ]
        return AuditReport(checked, inconsistent, findings, round(time.perf_counter() - started, 3))
