"""Assessment: a completed discovery flow's inventory -> a 6R recommendation per application."""

from __future__ import annotations

from collections import Counter
from typing import Any

from adapters.flow_types.assessment.scoring import STRATEGIES, recommend
from adapters.flow_types.discovery.phases import results_of
from adapters.flow_types.upstream import completed_upstream
from domain.echo import excerpt
from domain.errors import InvalidFlowInput
from domain.flow import Flow
from domain.flow_types import PhaseContext
from domain.phases import PhaseOutcome

PHASES = ("inventory_intake", "six_r_scoring", "recommendation_review", "assessment_summary")


async def inventory_intake(flow: Flow, context: PhaseContext) -> PhaseOutcome:
    """The applications of the completed discovery flow the configuration names, with their debt and dependencies."""
    discovery = await completed_upstream(context.flows, flow, "discovery_flow_id", "discovery")
    results = discovery.phase_results
    debt = results["tech_debt_assessment"]["assets"]
    deps = results["dependency_analysis"]
    in_cycle = {name for cycle in deps["cycles"] for name in cycle}
    outgoing = Counter(a for a, _ in deps["edges"])
    applications = [
        {
            "name": asset["name"],
            "asset_type": asset.get("asset_type") or "unknown",
            "environment": asset.get("environment") or "unknown",
            "debt_score": debt[asset["name"]]["score"],
            "debt_rating": debt[asset["name"]]["rating"],
            "fan_in": deps["fan_in"].get(asset["name"], 0),
            "dependencies": outgoing.get(asset["name"], 0),
            "in_cycle": asset["name"] in in_cycle,
        }
        for asset in results["asset_inventory"]["assets"]
    ]
    return PhaseOutcome.completed(
        {"discovery_flow_id": str(discovery.flow_id), "applications": applications, "edges": deps["edges"]}
    )


def six_r_scoring(flow: Flow) -> PhaseOutcome:
    applications = results_of(flow, "inventory_intake")["applications"]
    recommendations = {app["name"]: recommend(app) for app in applications}
    return PhaseOutcome.completed({"recommendations": recommendations, "by_strategy": _count(recommendations)})


def recommendation_review(flow: Flow) -> PhaseOutcome:
    scoring = results_of(flow, "six_r_scoring")
    return PhaseOutcome.needs_input({"recommendations": scoring["recommendations"], "rejections": 0})


def accept_review(flow: Flow, payload: dict[str, Any]) -> PhaseOutcome:
    """``{"approved": true, "overrides": {"app": "rehost"}}``; ``{"approved": false}`` keeps it waiting."""
    proposal = flow.phase_results["recommendation_review"]
    approved = payload.get("approved")
    if not isinstance(approved, bool):
        raise InvalidFlowInput("recommendation_review input needs 'approved': true or false")
    overrides = payload.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise InvalidFlowInput("'overrides' must be an object of application -> strategy")
    unknown_apps = sorted(set(overrides) - set(proposal["recommendations"]))
    bad = sorted(str(s) for s in overrides.values() if s not in STRATEGIES)
    if unknown_apps:
        raise InvalidFlowInput(f"no application is called {excerpt(', '.join(unknown_apps))}")
    if bad:
        raise InvalidFlowInput(f"unknown strategies {excerpt(', '.join(bad))}; known: {', '.join(STRATEGIES)}")
    if not approved:
        return PhaseOutcome.needs_input({**proposal, "rejections": proposal.get("rejections", 0) + 1})
    return PhaseOutcome.completed({"overrides": overrides})


def assessment_summary(flow: Flow) -> PhaseOutcome:
    recommendations = results_of(flow, "six_r_scoring")["recommendations"]
    overrides = results_of(flow, "recommendation_review")["overrides"]
    final = {name: overrides.get(name, rec["strategy"]) for name, rec in recommendations.items()}
    return PhaseOutcome.completed(
        {
            "strategies": dict(sorted(final.items())),
            "by_strategy": _count({n: {"strategy": s} for n, s in final.items()}),
            "overridden": sorted(overrides),
            "to_migrate": sorted(n for n, s in final.items() if s not in ("retire", "retain")),
        }
    )


def _count(recommendations: dict[str, dict[str, str]]) -> dict[str, int]:
    counts = Counter(r["strategy"] for r in recommendations.values())
    return {strategy: counts.get(strategy, 0) for strategy in STRATEGIES}
