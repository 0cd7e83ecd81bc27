"""Assessment's 6R scoring: deterministic rules, first match wins (see docs/flow-types.md).

| rule | strategy | when |
| --- | --- | --- |
| R1 | retire | nothing depends on it, it depends on nothing, and it is not in production |
| R2 | retain | high technical debt and part of a dependency cycle |
| R3 | repurchase | its type is a commodity capability (email, crm, erp, hr, collaboration, saas) |
| R4 | refactor | technical-debt score >= 50 and two or more dependants |
| R5 | replatform | a database, or technical-debt score >= 25 |
| R6 | rehost | everything else |
"""

from __future__ import annotations

from typing import Any

STRATEGIES = ("rehost", "replatform", "refactor", "repurchase", "retire", "retain")
COMMODITY_TYPES = frozenset({"email", "crm", "erp", "hr", "collaboration", "saas"})


def recommend(app: dict[str, Any]) -> dict[str, str]:
    score = app["debt_score"]
    if app["fan_in"] == 0 and app["dependencies"] == 0 and app["environment"] != "prod":
        return {"strategy": "retire", "rule": "R1", "reason": "nothing depends on it and it is not in production"}
    if app["debt_rating"] == "high" and app["in_cycle"]:
        return {"strategy": "retain", "rule": "R2", "reason": "high technical debt inside a dependency cycle"}
    if app["asset_type"] in COMMODITY_TYPES:
        return {"strategy": "repurchase", "rule": "R3", "reason": f"'{app['asset_type']}' is a commodity capability"}
    if score >= 50 and app["fan_in"] >= 2:
        return {"strategy": "refactor", "rule": "R4", "reason": "high technical debt and widely depended on"}
    if app["asset_type"] == "database" or score >= 25:
        return {"strategy": "replatform", "rule": "R5", "reason": "a managed platform removes the upkeep"}
    return {"strategy": "rehost", "rule": "R6", "reason": "no reason to change it on the way"}
