"""Wave planning: a completed assessment -> move groups -> waves -> a schedule.

Applications the assessment retires or retains are out of scope. Applications linked by a
dependency (either way) move together, in one move group. Groups go into waves simplest
strategy first (rehost, replatform, repurchase, refactor), largest group first, filling
each wave up to ``wave_size`` applications; a group bigger than that gets a wave of its own.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from adapters.flow_types.discovery.phases import results_of
from adapters.flow_types.upstream import completed_upstream
from domain.echo import excerpt
from domain.errors import PhaseFailed
from domain.flow import Flow
from domain.flow_types import PhaseContext
from domain.phases import PhaseOutcome

PHASES = ("scope_intake", "move_grouping", "wave_assignment", "schedule")
COMPLEXITY = {"rehost": 0, "replatform": 1, "repurchase": 2, "refactor": 3}


async def scope_intake(flow: Flow, context: PhaseContext) -> PhaseOutcome:
    """The applications the completed assessment the configuration names migrates, and their dependencies."""
    assessment = await completed_upstream(context.flows, flow, "assessment_flow_id", "assessment")
    strategies: dict[str, str] = assessment.phase_results["assessment_summary"]["strategies"]
    in_scope = {name: s for name, s in strategies.items() if s in COMPLEXITY}
    edges = [
        [a, b] for a, b in assessment.phase_results["inventory_intake"]["edges"] if a in in_scope and b in in_scope
    ]
    return PhaseOutcome.completed(
        {
            "assessment_flow_id": str(assessment.flow_id),
            "applications": dict(sorted(in_scope.items())),
            "excluded": sorted(set(strategies) - set(in_scope)),
            "edges": edges,
        }
    )


def move_grouping(flow: Flow) -> PhaseOutcome:
    scope = results_of(flow, "scope_intake")
    parent = {name: name for name in scope["applications"]}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for a, b in scope["edges"]:
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for name in parent:
        groups.setdefault(root(name), []).append(name)
    ordered = sorted((sorted(members) for members in groups.values()), key=lambda g: (-len(g), g[0]))
    return PhaseOutcome.completed({"groups": ordered, "group_count": len(ordered)})


def wave_assignment(flow: Flow) -> PhaseOutcome:
    wave_size = flow.configuration.get("wave_size", 5)
    if not isinstance(wave_size, int) or isinstance(wave_size, bool) or wave_size < 1:
        raise PhaseFailed("'wave_size' must be a whole number of at least 1")
    strategies = results_of(flow, "scope_intake")["applications"]
    groups = results_of(flow, "move_grouping")["groups"]
    ranked = sorted(groups, key=lambda g: (max(COMPLEXITY[strategies[a]] for a in g), -len(g), g[0]))
    waves: list[list[str]] = []
    for group in ranked:
        if waves and len(waves[-1]) + len(group) <= wave_size:
            waves[-1].extend(group)
        else:
            waves.append(list(group))
    return PhaseOutcome.completed(
        {"waves": [{"wave": i + 1, "applications": apps} for i, apps in enumerate(waves)], "wave_count": len(waves)}
    )


def schedule(flow: Flow) -> PhaseOutcome:
    waves = results_of(flow, "wave_assignment")["waves"]
    start: Any = flow.configuration.get("start_date")
    weeks = flow.configuration.get("wave_weeks", 2)
    if not isinstance(weeks, int) or isinstance(weeks, bool) or weeks < 1:
        raise PhaseFailed("'wave_weeks' must be a whole number of at least 1")
    if start is None:
        return PhaseOutcome.completed({"waves": waves, "scheduled": False})
    try:
        first = date.fromisoformat(str(start))
    except ValueError:
        raise PhaseFailed(f"'start_date' must be a date such as 2027-01-04, not {excerpt(repr(start))}") from None
    try:
        dated = [{**wave, **wave_dates(first, weeks, i)} for i, wave in enumerate(waves)]
    except (OverflowError, ValueError):
        raise PhaseFailed(
            f"{len(waves)} waves of {weeks} weeks from {first.isoformat()} would end after the year 9999: "
            "choose an earlier start_date or fewer wave_weeks"
        ) from None
    return PhaseOutcome.completed({"waves": dated, "scheduled": True})


def wave_dates(first: date, weeks: int, index: int) -> dict[str, str]:
    """When wave ``index`` (from 0) starts and ends; OverflowError past the year 9999."""
    return {
        "starts": (first + timedelta(weeks=weeks * index)).isoformat(),
        "ends": (first + timedelta(weeks=weeks * (index + 1), days=-1)).isoformat(),
    }
