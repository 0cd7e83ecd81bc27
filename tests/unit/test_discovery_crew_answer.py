"""The crew's field-mapping answer, validated strictly before it becomes a proposal."""

from __future__ import annotations

import re

import pytest

from adapters.flow_types.discovery.crew import MalformedCrewAnswer, proposal_from

COLUMNS = ["hostname", "os", "Rack {position}"]


@pytest.mark.parametrize(
    ("answer", "proposal"),
    [
        ('{"hostname": "name", "os": "os", "Rack {position}": null}', {"hostname": "name", "os": "os"}),
        ('  {"hostname": "name"}\n', {"hostname": "name"}),
        ('```json\n{"hostname": "name"}\n```', {"hostname": "name"}),
        ('```\n{"os": "os"}\n```', {"os": "os"}),
        ("{}", {}),
    ],
)
def test_an_object_of_columns_and_target_fields_is_taken(answer: str, proposal: dict[str, str]) -> None:
    assert proposal_from(answer, COLUMNS) == {column: proposal.get(column) for column in COLUMNS}


@pytest.mark.parametrize(
    ("answer", "complaint"),
    [
        ("", "not JSON"),
        ("Here you are: {}", "not JSON"),
        ('{"hostname": "name"} and that is all', "not JSON"),
        ('```json\n{"hostname": "name"}\n``` done', "not JSON"),
        ("null", "not an object"),
        ('[{"hostname": "name"}]', "not an object"),
        ('{"Hostname": "name"}', "not imported: ['Hostname']"),
        ('{"hostname": "Name"}', "no target field: {'hostname': 'Name'}"),
        ('{"hostname": ["name"]}', "no target field"),
        ('{"hostname": 1}', "no target field"),
        ('{"hostname": ""}', "no target field"),
        ('{"os": "os", "os": null}', "duplicate keys ['os']"),
        ('{"hostname": {"hostname": "name", "hostname": "os"}}', "duplicate keys"),
    ],
)
def test_anything_else_is_a_malformed_answer(answer: str, complaint: str) -> None:
    with pytest.raises(MalformedCrewAnswer, match=re.escape(complaint)):
        proposal_from(answer, COLUMNS)


def test_the_complaint_repeats_at_most_an_excerpt_of_the_answer() -> None:
    with pytest.raises(MalformedCrewAnswer) as raised:
        proposal_from("x" * 5000, COLUMNS)
    assert len(str(raised.value)) < 300
