"""Discovery's phase handlers: deterministic work on the flow's own input, no LLM.

Each handler reads the flow's configuration and the results of earlier phases and
returns a :class:`PhaseOutcome`. A problem with the data raises ``PhaseFailed``; bad
client input raises ``InvalidFlowInput``.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from typing import Any

from domain.echo import excerpt
from domain.errors import InvalidFlowInput, PhaseFailed
from domain.flow import Flow
from domain.phases import PhaseOutcome

PHASES: tuple[str, ...] = (
    "data_import",
    "field_mapping",
    "data_cleansing",
    "asset_inventory",
    "dependency_analysis",
    "tech_debt_assessment",
)

TARGET_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "hostname", "host", "server", "server_name", "asset_name", "asset"),
    "asset_type": ("asset_type", "type", "category", "kind"),
    "os": ("os", "operating_system", "platform"),
    "os_version": ("os_version", "version"),
    "environment": ("environment", "env", "tier"),
    "ip_address": ("ip_address", "ip", "ipaddress", "address"),
    "depends_on": ("depends_on", "dependencies", "deps", "dependency"),
    "owner": ("owner", "application_owner", "app_owner"),
    "cpu_cores": ("cpu_cores", "cpu", "cpus", "vcpu", "cores"),
    "memory_gb": ("memory_gb", "memory", "ram", "ram_gb"),
}
_SYNONYMS = {synonym: target for target, synonyms in TARGET_FIELDS.items() for synonym in synonyms}

# Operating systems past (or near) the end of their vendor support, by lower-case prefix.
END_OF_SUPPORT = (
    "windows server 2003",
    "windows server 2008",
    "windows server 2012",
    "centos 6",
    "centos 7",
    "rhel 6",
    "red hat enterprise linux 6",
    "ubuntu 14.04",
    "ubuntu 16.04",
    "solaris",
    "aix 6",
)
NEAR_END_OF_SUPPORT = ("windows server 2016", "rhel 7", "red hat enterprise linux 7", "ubuntu 18.04", "debian 10")


def normalise_column(column: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", column.strip().lower()).strip("_")


def data_import(flow: Flow) -> PhaseOutcome:
    """Parse the CSV text in ``configuration.data`` or the objects in ``configuration.rows``."""
    config = flow.configuration
    if isinstance(config.get("data"), str):
        reader = csv.DictReader(io.StringIO(config["data"].strip()))
        rows = [dict(row) for row in reader]
        if reader.fieldnames is None:
            raise PhaseFailed("the CSV in 'data' has no header row")
        if any(None in row for row in rows):
            raise PhaseFailed("a CSV row has more values than the header has columns")
        source = "csv"
    elif isinstance(config.get("rows"), list):
        rows = config["rows"]
        if not all(isinstance(row, dict) for row in rows):
            raise PhaseFailed("every item of 'rows' must be an object")
        source = "json"
    else:
        raise PhaseFailed("the configuration has no 'data' (CSV text) or 'rows' (a list of objects) to import")
    if not rows:
        raise PhaseFailed("the input holds no rows")
    columns = sorted({str(key) for row in rows for key in row})
    clean = [{str(k): "" if v is None else v for k, v in row.items()} for row in rows]
    return PhaseOutcome.completed({"source": source, "row_count": len(clean), "columns": columns, "rows": clean})


def field_mapping(flow: Flow) -> PhaseOutcome:
    """Propose a target field for each imported column, then wait for a client's approval."""
    columns = results_of(flow, "data_import")["columns"]
    proposed = {c: _SYNONYMS[normalise_column(c)] for c in columns if normalise_column(c) in _SYNONYMS}
    unmapped = [c for c in columns if c not in proposed]
    return PhaseOutcome.needs_input({"proposed_mappings": proposed, "unmapped_columns": unmapped, "rejections": 0})


def accept_field_mapping(flow: Flow, payload: dict[str, Any]) -> PhaseOutcome:
    """``{"approved": true, "mappings": {...}}`` approves; empty mappings accept the proposal."""
    proposal = flow.phase_results["field_mapping"]
    approved = payload.get("approved")
    if not isinstance(approved, bool):
        raise InvalidFlowInput("field_mapping input needs 'approved': true or false")
    mappings = payload.get("mappings") or {}
    if not isinstance(mappings, dict) or not all(isinstance(v, str) for v in mappings.values()):
        raise InvalidFlowInput("'mappings' must be an object of source column -> target field")
    if not approved:
        return PhaseOutcome.needs_input({**proposal, "rejections": proposal.get("rejections", 0) + 1})
    final = dict(mappings) if mappings else dict(proposal["proposed_mappings"])
    columns = set(results_of(flow, "data_import")["columns"])
    unknown_sources = sorted(set(final) - columns)
    unknown_targets = sorted(set(final.values()) - set(TARGET_FIELDS))
    if unknown_sources:
        raise InvalidFlowInput(f"no imported column is called {excerpt(', '.join(unknown_sources))}")
    if unknown_targets:
        raise InvalidFlowInput(
            f"unknown target fields {excerpt(', '.join(unknown_targets))}; known: {', '.join(TARGET_FIELDS)}"
        )
    if "name" not in final.values():
        raise InvalidFlowInput("one column must map to the target field 'name'")
    return PhaseOutcome.completed({"mappings": final, "rejections": proposal.get("rejections", 0)})


def data_cleansing(flow: Flow) -> PhaseOutcome:
    """Apply the approved mappings, trim and normalise values, drop nameless rows and duplicates."""
    mappings: dict[str, str] = results_of(flow, "field_mapping")["mappings"]
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    dropped = duplicates = 0
    for row in results_of(flow, "data_import")["rows"]:
        record = {target: _clean(target, row.get(source, "")) for source, target in mappings.items()}
        name = str(record.get("name") or "")
        if not name:
            dropped += 1
            continue
        if name.lower() in seen:
            duplicates += 1
            continue
        seen.add(name.lower())
        records.append(record)
    if not records:
        raise PhaseFailed("no row has a name after cleansing", {"dropped_without_name": dropped})
    return PhaseOutcome.completed(
        {
            "records": records,
            "record_count": len(records),
            "dropped_without_name": dropped,
            "duplicates_removed": duplicates,
        }
    )


def asset_inventory(flow: Flow) -> PhaseOutcome:
    """Count the cleansed assets by type, environment and operating system."""
    records = results_of(flow, "data_cleansing")["records"]

    def count(field: str) -> dict[str, int]:
        return dict(sorted(Counter(str(r.get(field) or "unknown") for r in records).items()))

    return PhaseOutcome.completed(
        {
            "total": len(records),
            "by_type": count("asset_type"),
            "by_environment": count("environment"),
            "by_os": count("os"),
            "assets": records,
        }
    )


def dependency_analysis(flow: Flow) -> PhaseOutcome:
    """Build the dependency graph from ``depends_on`` (names split by ';' or ','), find cycles."""
    assets = results_of(flow, "asset_inventory")["assets"]
    names = {str(a["name"]).lower(): str(a["name"]) for a in assets}
    graph: dict[str, list[str]] = {}
    unresolved: list[list[str]] = []
    for asset in assets:
        targets = [t.strip() for t in re.split(r"[;,]", str(asset.get("depends_on") or "")) if t.strip()]
        graph[asset["name"]] = []
        for target in targets:
            if target.lower() in names:
                graph[asset["name"]].append(names[target.lower()])
            else:
                unresolved.append([asset["name"], target])
    fan_in = Counter(t for targets in graph.values() for t in targets)
    return PhaseOutcome.completed(
        {
            "edges": [[a, b] for a, targets in graph.items() for b in targets],
            "edge_count": sum(len(t) for t in graph.values()),
            "unresolved": unresolved,
            "cycles": find_cycles(graph),
            "fan_in": dict(sorted(fan_in.items())),
        }
    )


def tech_debt_assessment(flow: Flow) -> PhaseOutcome:
    """Score each asset 0-100: operating-system support, dependants and cycles. See docs."""
    assets = results_of(flow, "asset_inventory")["assets"]
    deps = results_of(flow, "dependency_analysis")
    in_cycle = {name for cycle in deps["cycles"] for name in cycle}
    scores: dict[str, dict[str, Any]] = {}
    for asset in assets:
        score, reasons = 0, []
        os_name = f"{asset.get('os') or ''} {asset.get('os_version') or ''}".strip().lower()
        if not os_name:
            score, reasons = score + 10, [*reasons, "operating system unknown"]
        elif os_name.startswith(END_OF_SUPPORT):
            score, reasons = score + 50, [*reasons, "operating system past end of support"]
        elif os_name.startswith(NEAR_END_OF_SUPPORT):
            score, reasons = score + 25, [*reasons, "operating system near end of support"]
        if deps["fan_in"].get(asset["name"], 0) >= 3:
            score, reasons = score + 10, [*reasons, "three or more dependants"]
        if asset["name"] in in_cycle:
            score, reasons = score + 15, [*reasons, "part of a dependency cycle"]
        score = min(score, 100)
        rating = "high" if score >= 50 else "medium" if score >= 25 else "low"
        scores[asset["name"]] = {"score": score, "rating": rating, "reasons": reasons}
    summary = Counter(s["rating"] for s in scores.values())
    return PhaseOutcome.completed(
        {
            "assets": scores,
            "summary": {r: summary.get(r, 0) for r in ("high", "medium", "low")},
            "average_score": round(sum(s["score"] for s in scores.values()) / len(scores), 2),
        }
    )


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node, or with a self-loop (Kosaraju, iterative)."""
    order: list[str] = []
    seen: set[str] = set()
    for root in sorted(graph):
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(graph.get(root, [])))]
        while stack:
            node, children = stack[-1]
            child = next((c for c in children if c not in seen), None)
            if child is None:
                order.append(node)
                stack.pop()
            else:
                seen.add(child)
                stack.append((child, iter(graph.get(child, []))))
    reverse: dict[str, list[str]] = {}
    for node, targets in graph.items():
        for target in targets:
            reverse.setdefault(target, []).append(node)
    assigned: set[str] = set()
    cycles: list[list[str]] = []
    for root in reversed(order):
        if root in assigned:
            continue
        component, todo = [], [root]
        assigned.add(root)
        while todo:
            node = todo.pop()
            component.append(node)
            for prev in reverse.get(node, []):
                if prev not in assigned:
                    assigned.add(prev)
                    todo.append(prev)
        if len(component) > 1 or root in graph.get(root, []):
            cycles.append(sorted(component))
    return sorted(cycles)


def results_of(flow: Flow, phase: str) -> dict[str, Any]:
    """An earlier phase's results; a clear failure when that phase was skipped."""
    results = flow.phase_results.get(phase)
    if results is None or flow.phase_state(phase) != "completed":
        raise PhaseFailed(f"this phase needs the results of '{phase}', which has not completed")
    return results


def _clean(target: str, value: Any) -> Any:
    text = str(value).strip() if value is not None else ""
    if target in ("asset_type", "environment"):
        return text.lower()
    if target in ("cpu_cores", "memory_gb"):
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return text


HANDLERS = {
    "data_import": data_import,
    "field_mapping": field_mapping,
    "data_cleansing": data_cleansing,
    "asset_inventory": asset_inventory,
    "dependency_analysis": dependency_analysis,
    "tech_debt_assessment": tech_debt_assessment,
}
INPUT_HANDLERS = {"field_mapping": accept_field_mapping}
