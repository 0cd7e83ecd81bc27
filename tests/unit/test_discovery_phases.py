"""Discovery's handlers on real input: parse, map, cleanse, count, graph, score."""

from __future__ import annotations

import pytest

from adapters.flow_types.discovery import phases
from domain.errors import InvalidFlowInput, PhaseFailed
from domain.flow import AttemptEnd, Flow
from domain.lifecycle import Operation
from domain.phases import PhaseResultKind
from tests.unit.flow_builders import TENANT, Ticker, claim

CSV = """Hostname,Type,OS,OS Version,Env,Depends On,Owner
web1, Server ,Ubuntu,16.04,PROD,db1;cache1,team-a
db1,Database,RHEL,7,prod,,team-b
cache1,server,Windows Server,2008,prod,web1,team-a
web2,server,Ubuntu,22.04,dev,db1;ghost,team-a
web1,server,Ubuntu,16.04,prod,,duplicate
,server,Ubuntu,22.04,dev,,nameless
"""


def flow_with(config: dict) -> tuple[Flow, Ticker]:
    from uuid import uuid4

    tick = Ticker()
    flow = Flow.create(
        flow_id=uuid4(),
        tenant=TENANT,
        flow_type="discovery",
        name="d",
        phases=list(phases.PHASES),
        configuration=config,
        actor="t",
        at=tick(),
    )
    flow.start(actor="t", at=tick())
    return flow, tick


def run(flow: Flow, tick: Ticker, phase: str) -> dict:
    run_id = claim(flow, tick, phase=phase)
    outcome = phases.HANDLERS[phase](flow)
    flow.end_attempt(run_id, AttemptEnd.of(outcome), actor="t", at=tick())
    return outcome.result


def test_a_whole_discovery_on_csv() -> None:
    flow, tick = flow_with({"data": CSV})
    imported = run(flow, tick, "data_import")
    assert imported["row_count"] == 6 and imported["source"] == "csv"
    proposal = run(flow, tick, "field_mapping")
    assert proposal["proposed_mappings"]["Hostname"] == "name"
    assert proposal["proposed_mappings"]["Depends On"] == "depends_on"
    approved = phases.accept_field_mapping(flow, {"approved": True, "mappings": {}})
    assert approved.kind == PhaseResultKind.COMPLETED
    flow.record_phase_outcome(Operation.SUBMIT_INPUT, "field_mapping", approved, actor="t", at=tick())
    cleansed = run(flow, tick, "data_cleansing")
    assert (cleansed["record_count"], cleansed["duplicates_removed"], cleansed["dropped_without_name"]) == (4, 1, 1)
    inventory = run(flow, tick, "asset_inventory")
    assert inventory["by_type"] == {"database": 1, "server": 3}
    assert inventory["by_environment"] == {"dev": 1, "prod": 3}
    deps = run(flow, tick, "dependency_analysis")
    assert deps["unresolved"] == [["web2", "ghost"]]
    assert deps["cycles"] == [["cache1", "web1"]]
    assert deps["fan_in"]["db1"] == 2
    debt = run(flow, tick, "tech_debt_assessment")
    assert debt["assets"]["cache1"] == {
        "score": 65,
        "rating": "high",
        "reasons": ["operating system past end of support", "part of a dependency cycle"],
    }
    assert debt["assets"]["db1"]["rating"] == "medium"
    assert debt["assets"]["web2"]["score"] == 0
    assert debt["summary"] == {"high": 2, "medium": 1, "low": 1}


def test_json_rows_and_explicit_mappings() -> None:
    flow, tick = flow_with({"rows": [{"n": "a", "k": "vm"}, {"n": "b", "k": "VM"}]})
    run(flow, tick, "data_import")
    run(flow, tick, "field_mapping")
    with pytest.raises(InvalidFlowInput, match="map to the target field 'name'"):
        phases.accept_field_mapping(flow, {"approved": True, "mappings": {"k": "asset_type"}})
    with pytest.raises(InvalidFlowInput, match="no imported column"):
        phases.accept_field_mapping(flow, {"approved": True, "mappings": {"zz": "name"}})
    with pytest.raises(InvalidFlowInput, match="approved"):
        phases.accept_field_mapping(flow, {"mappings": {}})
    rejected = phases.accept_field_mapping(flow, {"approved": False})
    assert rejected.kind == PhaseResultKind.NEEDS_INPUT and rejected.result["rejections"] == 1
    outcome = phases.accept_field_mapping(flow, {"approved": True, "mappings": {"n": "name", "k": "asset_type"}})
    flow.record_phase_outcome(Operation.SUBMIT_INPUT, "field_mapping", outcome, actor="t", at=tick())
    run(flow, tick, "data_cleansing")
    assert run(flow, tick, "asset_inventory")["by_type"] == {"vm": 2}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "no 'data'"),
        ({"data": ""}, "no header row"),
        ({"data": "a,b\n"}, "holds no rows"),
        ({"data": "a\n1,2\n"}, "more values"),
        ({"rows": [1]}, "must be an object"),
    ],
)
def test_bad_input_fails_the_import(config: dict, message: str) -> None:
    flow, _ = flow_with(config)
    with pytest.raises(PhaseFailed, match=message):
        phases.data_import(flow)


def test_a_phase_whose_inputs_were_skipped_fails_clearly() -> None:
    flow, _ = flow_with({"data": CSV})
    with pytest.raises(PhaseFailed, match="needs the results of 'asset_inventory'"):
        phases.dependency_analysis(flow)


def test_cycle_finding_handles_long_chains_and_self_loops() -> None:
    chain = {f"n{i}": [f"n{i + 1}"] for i in range(5000)}
    chain["n5000"] = ["n0"]
    assert len(phases.find_cycles(chain)[0]) == 5001
    assert phases.find_cycles({"a": ["a"], "b": []}) == [["a"]]
