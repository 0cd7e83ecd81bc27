"""Each built-in flow type's validate_configuration: what its phases can work with passes, anything a later phase
would choke on is InvalidFlowInput naming the field. And the planning schedule itself fails cleanly past year 9999."""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.flow_types.assessment.configuration import validate_configuration as validate_assessment
from adapters.flow_types.discovery.configuration import validate_configuration as validate_discovery
from adapters.flow_types.planning import phases as planning
from adapters.flow_types.planning.configuration import validate_configuration as validate_planning
from domain.errors import InvalidFlowInput, PhaseFailed
from domain.flow import Flow
from domain.lifecycle import Operation
from domain.phases import PhaseOutcome
from tests.support import DISCOVERY_CSV
from tests.unit.flow_builders import TENANT, Ticker

VALIDATORS = [validate_discovery, validate_assessment, validate_planning]


@pytest.mark.parametrize(
    ("validate", "configuration"),
    [
        (validate_discovery, {}),
        (validate_discovery, {"data": DISCOVERY_CSV}),
        (validate_discovery, {"rows": [{"hostname": "web1", "cpu_cores": 4, "memory_gb": 7.5, "up": True}]}),
        (validate_discovery, {"rows": [{"n": 2**63 - 1, "m": -(2**63), "o": None}], "explode_in": "x"}),
        (validate_assessment, {}),
        (validate_assessment, {"discovery_flow_id": str(uuid4())}),
        (validate_planning, {}),
        (
            validate_planning,
            {"assessment_flow_id": str(uuid4()), "wave_size": 5, "start_date": "2027-01-04", "wave_weeks": 2},
        ),
        (validate_planning, {"wave_size": 10_000, "wave_weeks": 520, "start_date": "2999-12-31"}),
        (validate_planning, {"wave_size": 1, "wave_weeks": 1, "start_date": "1970-01-01"}),
    ],
)
def test_configurations_the_phases_can_work_with_pass(validate: Any, configuration: dict[str, Any]) -> None:
    validate(configuration)


@pytest.mark.parametrize(
    ("validate", "configuration", "field"),
    [
        (validate_discovery, {"data": 5}, "data"),
        (validate_discovery, {"data": ["a"]}, "data"),
        (validate_discovery, {"rows": "hostname"}, "rows"),
        (validate_discovery, {"rows": [1, 2]}, "rows"),
        (validate_discovery, {"rows": [{"n": 2**63}]}, "rows"),
        (validate_discovery, {"rows": [{"n": {"nested": 1}}]}, "rows"),
        (validate_discovery, {"rows": [{"n": [1]}]}, "rows"),
        (validate_discovery, {"rows": [{"n": float("inf")}]}, "rows"),
        (validate_assessment, {"discovery_flow_id": "not a uuid"}, "discovery_flow_id"),
        (validate_assessment, {"discovery_flow_id": 7}, "discovery_flow_id"),
        (validate_planning, {"assessment_flow_id": ["x"]}, "assessment_flow_id"),
        (validate_planning, {"wave_size": 0}, "wave_size"),
        (validate_planning, {"wave_size": 10**30}, "wave_size"),
        (validate_planning, {"wave_size": True}, "wave_size"),
        (validate_planning, {"wave_size": 2.5}, "wave_size"),
        (validate_planning, {"wave_weeks": 10**12}, "wave_weeks"),
        (validate_planning, {"wave_weeks": -1}, "wave_weeks"),
        (validate_planning, {"wave_weeks": "2"}, "wave_weeks"),
        (validate_planning, {"start_date": "9999-12-31"}, "start_date"),
        (validate_planning, {"start_date": "0001-01-01"}, "start_date"),
        (validate_planning, {"start_date": "20270104"}, "start_date"),
        (validate_planning, {"start_date": 20270104}, "start_date"),
        (validate_planning, {"start_date": "2027-02-30"}, "start_date"),
        (validate_planning, {"start_date": "2027-01-04T00:00:00+14:00"}, "start_date"),
    ],
)
def test_values_a_phase_would_choke_on_are_refused_naming_the_field(
    validate: Any, configuration: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidFlowInput, match=f"'{field}'"):
        validate(configuration)


@pytest.mark.parametrize("validate", VALIDATORS)
def test_a_configuration_that_is_not_an_object_is_refused(validate: Any) -> None:
    with pytest.raises(InvalidFlowInput, match="object"):
        validate(["not", "an", "object"])  # type: ignore[arg-type]


def test_a_range_is_named_in_the_message() -> None:
    with pytest.raises(InvalidFlowInput, match="from 1 to 520"):
        validate_planning({"wave_weeks": 10**12})
    with pytest.raises(InvalidFlowInput, match="1970-01-01 to 2999-12-31"):
        validate_planning({"start_date": "9999-12-31"})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@pytest.mark.parametrize("validate", VALIDATORS)
@given(configuration=st.dictionaries(st.sampled_from(["data", "rows", "discovery_flow_id",
        "assessment_flow_id", "wave_size", "wave_weeks", "start_date", "other"]), JSON, max_size=5))  # fmt: skip
def test_any_json_passes_or_is_invalid_flow_input(validate: Any, configuration: dict[str, Any]) -> None:
    with contextlib.suppress(InvalidFlowInput):
        validate(configuration)


def planned_flow(configuration: dict[str, Any], applications: int) -> tuple[Flow, Ticker]:
    """A planning flow whose first three phases have run, with ``applications`` independent rehost applications."""
    tick = Ticker()
    flow = Flow.create(
        flow_id=uuid4(),
        tenant=TENANT,
        flow_type="planning",
        name="p",
        phases=list(planning.PHASES),
        configuration=configuration,
        actor="t",
        at=tick(),
    )
    flow.start(actor="t", at=tick())
    scope = {"applications": {f"app{i}": "rehost" for i in range(applications)}, "edges": [], "excluded": []}
    flow.record_phase_outcome(
        Operation.EXECUTE_PHASE, "scope_intake", PhaseOutcome.completed(scope), actor="t", at=tick()
    )
    for handler in (planning.move_grouping, planning.wave_assignment):
        flow.record_phase_outcome(Operation.EXECUTE_PHASE, handler.__name__, handler(flow), actor="t", at=tick())
    return flow, tick


@pytest.mark.parametrize(
    "configuration",
    [
        {"wave_size": 1, "start_date": "9999-12-31"},
        {"wave_size": 1, "start_date": "9999-01-01", "wave_weeks": 10**6},
        {"wave_size": 1, "start_date": "2027-01-04", "wave_weeks": 10**30},
        {"wave_size": 1, "start_date": "2999-12-31", "wave_weeks": 520},
    ],
)
def test_a_schedule_past_the_year_9999_fails_the_phase_clearly(configuration: dict[str, Any]) -> None:
    flow, _ = planned_flow(configuration, applications=800)
    with pytest.raises(PhaseFailed, match="after the year 9999"):
        planning.schedule(flow)


def test_a_schedule_within_range_dates_every_wave() -> None:
    flow, _ = planned_flow({"wave_size": 2, "start_date": "2027-01-04", "wave_weeks": 2}, applications=4)
    result = planning.schedule(flow).result
    assert [(w["starts"], w["ends"]) for w in result["waves"]] == [
        ("2027-01-04", "2027-01-17"),
        ("2027-01-18", "2027-01-31"),
    ]
