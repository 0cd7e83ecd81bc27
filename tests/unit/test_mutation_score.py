"""tests/mutation_score.py: killed / total per module from ``mutmut results``, and the gate."""

from __future__ import annotations

from tests.mutation_score import parse, report

RESULTS = """\
    domain.flow.xǁFlowǁstart__mutmut_1: killed
    domain.flow.xǁFlowǁstart__mutmut_2: survived
    domain.flow.x_progress_percent_of__mutmut_1: timeout
    domain.ports.xǁConsistencyAuditorǁaudit__mutmut_1: no tests
    application.orchestrator.xǁMasterFlowOrchestratorǁstart_flow__mutmut_1: survived
    application.flow_type_registry.x__malformation__mutmut_1: killed
"""


def test_results_are_parsed_into_modules_and_statuses() -> None:
    mutants = parse(RESULTS)
    assert [(m.path, m.status, m.killed) for m in mutants] == [
        ("domain/flow.py", "killed", True),
        ("domain/flow.py", "survived", False),
        ("domain/flow.py", "timeout", True),
        ("domain/ports.py", "no tests", False),
        ("application/orchestrator.py", "survived", False),
        ("application/flow_type_registry.py", "killed", True),
    ]


def test_the_gate_leaves_out_the_modules_not_gated_but_still_shows_them() -> None:
    mutants = parse(RESULTS)
    text, passed = report(mutants, 60, ["application/orchestrator.py"])
    assert passed  # 3 of the 5 gated mutants killed: 60 %
    assert report(mutants, 61, ["application/orchestrator.py"])[1] is False
    assert report(mutants, 60, [])[1] is False  # with the orchestrator gated: 3 of 6
    lines = text.splitlines()
    assert any(line.startswith("application/orchestrator.py") and "0 / 1" in line for line in lines)
    assert any(line.startswith("all modules") and "3 / 6" in line for line in lines)
    assert "  domain.flow.xǁFlowǁstart__mutmut_2: survived" in lines
    assert "  application.orchestrator.xǁMasterFlowOrchestratorǁstart_flow__mutmut_1: survived" not in lines
