"""What the fault tests read about phase attempts: the sleeper's own log of each attempt (which process, when it began
and ended its work), the phase_attempts rows, the flows' events; and the check that attempts of one phase never
ran at the same time."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class Worked:
    """One attempt of a phase as the sleeper logged it: ``ended`` is None when its process died mid-phase."""

    phase: str
    attempt: int
    run_id: str
    pid: int
    began: float
    ended: float | None
    how: str | None  # "ended", "cancelled", or None: it never got to say
    flow_id: str = ""

    def until(self, killed_at: dict[int, float]) -> float:
        """When its work stopped at the latest: its end, or the moment its process was known dead."""
        if self.ended is not None:
            return self.ended
        return killed_at.get(self.pid, float("inf"))  # a live process whose attempt never ended: still running


def sleeper_log(folder: Path, flow_id: str) -> list[Worked]:
    """The attempts the sleeper logged for the flow (``attempts_log``), in the order they began."""
    path = folder / f"{flow_id}.jsonl"
    if not path.exists():
        return []
    began: dict[str, dict[str, Any]] = {}
    ends: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        (began if entry["what"] == "began" else ends)[entry["run_id"]] = entry
    worked = []
    for run_id, start in began.items():
        end = ends.get(run_id)
        worked.append(
            Worked(
                start["phase"],
                start["attempt"],
                run_id,
                start["pid"],
                start["at"],
                end["at"] if end else None,
                end["what"] if end else None,
                flow_id,
            )
        )
    return sorted(worked, key=lambda w: w.began)


def overlapping(worked: list[Worked], killed_at: dict[int, float]) -> list[str]:
    """Attempts of the same phase of one flow whose work overlapped in time (each from its beginning until it ended
    or its process was killed)."""
    found = []
    by_phase: dict[str, list[Worked]] = defaultdict(list)
    for each in worked:
        by_phase[each.phase].append(each)
    for phase, attempts in by_phase.items():
        attempts.sort(key=lambda w: w.began)
        for earlier, later in itertools.pairwise(attempts):
            if later.began < earlier.until(killed_at):
                found.append(
                    f"{earlier.flow_id} {phase}: attempt {later.attempt} (pid {later.pid}) began at {later.began:.3f}, "
                    f"before attempt {earlier.attempt} (pid {earlier.pid}) stopped at {earlier.until(killed_at):.3f}"
                )
    return found


@dataclass(frozen=True)
class AttemptRow:
    run_id: str
    phase: str
    attempt: int
    owner: str
    started_at: datetime
    ended_at: datetime | None
    result: str | None
    detail: str | None


async def statuses(engine: AsyncEngine, flow_ids: list[str]) -> dict[str, str]:
    """The status of each flow, read straight from PostgreSQL."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT flow_id::text, status FROM flows WHERE flow_id::text = ANY(:ids)"), {"ids": flow_ids}
        )
        return dict(rows.all())  # type: ignore[arg-type]


async def stored(engine: AsyncEngine, flow_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each flow's row (status, version, phase results), its attempts (phase_attempts, in the order they started),
    its events' operations and actors (in order) and its lease, if any: read straight from PostgreSQL."""
    ids = {"ids": flow_ids}
    async with engine.connect() as connection:
        flows = (
            await connection.execute(
                text("SELECT flow_id::text, status, version, phase_results FROM flows WHERE flow_id::text = ANY(:ids)"),
                ids,
            )
        ).all()
        attempts = (
            await connection.execute(
                text(
                    "SELECT flow_id::text, run_id::text, phase, attempt, owner, started_at, ended_at, result,"
                    " detail FROM phase_attempts WHERE flow_id::text = ANY(:ids) ORDER BY started_at, attempt"
                ),
                ids,
            )
        ).all()
        events = (
            await connection.execute(
                text(
                    "SELECT flow_id::text, operation, actor, occurred_at FROM flow_events"
                    " WHERE flow_id::text = ANY(:ids) ORDER BY version"
                ),
                ids,
            )
        ).all()
        leases = (
            await connection.execute(
                text("SELECT flow_id::text, owner FROM phase_leases WHERE flow_id::text = ANY(:ids)"), ids
            )
        ).all()
    found: dict[str, dict[str, Any]] = {
        flow_id: {
            "status": status,
            "version": version,
            "phase_results": results,
            "attempts": [],
            "events": [],
            "lease": None,
        }
        for flow_id, status, version, results in flows
    }
    for flow_id, *row in attempts:
        found[flow_id]["attempts"].append(AttemptRow(*row))
    for flow_id, operation, actor, occurred_at in events:
        found[flow_id]["events"].append((operation, actor, occurred_at))
    for flow_id, owner in leases:
        found[flow_id]["lease"] = owner
    return found
