"""The breaking-change check of docs/openapi.json, on hand-built pairs of schemas."""

from __future__ import annotations

import copy
from typing import Any

from entrypoints.http.openapi_compat import breaking_changes


def document() -> dict[str, Any]:
    """A small API: a flow with a status enum and nested phases, read and changed by three operations."""
    return {
        "openapi": "3.1.0",
        "paths": {
            "/flows": {
                "get": {
                    "operationId": "listFlows",
                    "parameters": [
                        {
                            "in": "query",
                            "name": "status",
                            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/FlowStatus"}},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "a page",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Flow"}}
                                        },
                                    }
                                }
                            },
                        }
                    },
                },
                "post": {
                    "operationId": "createFlow",
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateFlow"}}}
                    },
                    "responses": {
                        "201": {
                            "description": "created",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Flow"}}},
                        },
                        "409": {
                            "description": "conflict",
                            "content": {
                                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                            },
                        },
                    },
                },
            },
            "/flows/{flow_id}": {
                "delete": {
                    "operationId": "deleteFlow",
                    "responses": {
                        "200": {
                            "description": "deleted",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Flow"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "FlowStatus": {"type": "string", "enum": ["running", "paused", "completed"]},
                "Flow": {
                    "type": "object",
                    "properties": {
                        "flow_id": {"type": "string", "format": "uuid"},
                        "status": {"$ref": "#/components/schemas/FlowStatus"},
                        "running_phase": {"oneOf": [{"$ref": "#/components/schemas/Phase"}, {"type": "null"}]},
                        "phases": {"type": "array", "items": {"$ref": "#/components/schemas/Phase"}},
                        "results": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Phase"}},
                    },
                },
                "Phase": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "state": {"type": "string", "enum": ["pending", "completed"]},
                        "next": {"oneOf": [{"$ref": "#/components/schemas/Phase"}, {"type": "null"}]},
                    },
                },
                "CreateFlow": {
                    "type": "object",
                    "properties": {"flow_type": {"type": "string", "enum": ["discovery", "assessment"]}},
                },
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "current_status": {"$ref": "#/components/schemas/FlowStatus"},
                    },
                },
            }
        },
    }


def schemas(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["components"]["schemas"]


def test_a_document_is_compatible_with_itself() -> None:
    assert breaking_changes(document(), document()) == []


def test_additions_are_not_breaking() -> None:
    new = document()
    new["paths"]["/flows/{flow_id}"]["get"] = {"operationId": "getFlow", "responses": {"200": {"description": "x"}}}
    schemas(new)["Flow"]["properties"]["version"] = {"type": "integer"}
    schemas(new)["FlowStatus"]["enum"].append("failed")
    new["paths"]["/flows"]["post"]["responses"]["422"] = {"description": "invalid"}
    schemas(new)["Flow"]["description"] = "a flow"
    assert breaking_changes(document(), new) == []


def test_a_removed_operation_is_named_with_its_id() -> None:
    new = document()
    del new["paths"]["/flows/{flow_id}"]
    assert breaking_changes(document(), new) == ["removed operation DELETE /flows/{flow_id} (deleteFlow)"]


def test_a_removed_method_of_a_kept_path_is_a_removed_operation() -> None:
    new = document()
    del new["paths"]["/flows"]["post"]
    assert breaking_changes(document(), new) == ["removed operation POST /flows (createFlow)"]


def test_a_removed_top_level_response_field_is_reported_for_every_response_that_has_it() -> None:
    new = document()
    del schemas(new)["Flow"]["properties"]["flow_id"]
    assert breaking_changes(document(), new) == [
        "removed field `items[].flow_id` from response 200 of GET /flows",
        "removed field `flow_id` from response 201 of POST /flows",
        "removed field `flow_id` from response 200 of DELETE /flows/{flow_id}",
    ]


def test_a_removed_nested_field_is_found_through_arrays_maps_unions_and_references() -> None:
    new = document()
    del schemas(new)["Phase"]["properties"]["name"]
    problems = breaking_changes(document(), new)
    where = "from response 201 of POST /flows"
    for field in ("phases[].name", "running_phase.name", "results{}.name"):  # Phase.next: recursive, listed once
        assert f"removed field `{field}` {where}" in problems, problems


def test_a_value_removed_from_a_named_enum_is_reported_once_for_all_its_uses() -> None:
    new = document()
    schemas(new)["FlowStatus"]["enum"].remove("paused")
    assert breaking_changes(document(), new) == ["removed enum value 'paused' of the schema FlowStatus"]


def test_a_value_removed_from_an_enum_in_place_is_reported_wherever_it_is_used() -> None:
    new = document()
    schemas(new)["Phase"]["properties"]["state"]["enum"] = ["completed"]
    problems = breaking_changes(document(), new)
    assert "removed enum value 'pending' of `phases[].state` in response 201 of POST /flows" in problems
    assert "removed enum value 'pending' of `items[].running_phase.state` in response 200 of GET /flows" in problems
    assert not [p for p in problems if "'completed'" in p]


def test_a_value_removed_from_a_parameter_s_enum_is_breaking() -> None:
    old, new = document(), document()
    for doc, values in ((old, ["running", "paused"]), (new, ["running"])):
        parameter = doc["paths"]["/flows"]["get"]["parameters"][0]
        parameter["schema"] = {"type": "array", "items": {"type": "string", "enum": values}}
    assert breaking_changes(old, new) == [
        "removed enum value 'paused' of `query:status[]` in the parameters of GET /flows"
    ]


def test_a_removed_enum_value_of_a_request_body_is_breaking() -> None:
    new = document()
    schemas(new)["CreateFlow"]["properties"]["flow_type"]["enum"] = ["discovery"]
    assert breaking_changes(document(), new) == [
        "removed enum value 'assessment' of `flow_type` in the request body of POST /flows"
    ]


def test_an_enum_widened_to_any_string_is_not_breaking() -> None:
    new = document()
    schemas(new)["Phase"]["properties"]["state"] = {"type": "string"}
    assert breaking_changes(document(), new) == []


def test_a_removed_success_response_is_breaking_and_a_removed_problem_is_not() -> None:
    new = document()
    del new["paths"]["/flows"]["post"]["responses"]["201"]
    del new["paths"]["/flows"]["post"]["responses"]["409"]
    assert breaking_changes(document(), new) == ["removed response 201 of POST /flows"]


def test_a_removed_media_type_of_a_response_is_breaking() -> None:
    new = document()
    response = new["paths"]["/flows/{flow_id}"]["delete"]["responses"]["200"]
    response["content"] = {"text/plain": {"schema": {"type": "string"}}}
    assert breaking_changes(document(), new) == [
        "removed application/json body of response 200 of DELETE /flows/{flow_id}"
    ]


def test_the_old_document_is_not_changed_by_the_check() -> None:
    old, new = document(), document()
    del schemas(new)["Flow"]["properties"]["status"]
    before = copy.deepcopy(old)
    breaking_changes(old, new)
    assert old == before
