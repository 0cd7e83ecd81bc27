"""docs/openapi.json is the app's schema, and what it promises: credentials, the 401 and 403 of every protected
route, the domain's enums, examples that fit their schemas; and clients/python is generated from it.

No database: the app is built on default settings, which opens no connection.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from litestar.routes import HTTPRoute

from domain.auth import Role
from domain.lifecycle import FlowStatus, Operation, PhaseState
from entrypoints.http.app import create_app
from entrypoints.http.auth import needs_credential
from entrypoints.http.openapi_compat import breaking_changes
from entrypoints.http.openapi_document import DOCUMENT_PATH, app_schema, render
from entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "python"
NOT_GENERATED = ("__pycache__", ".egg-info")
"""What an installed or imported client adds to its folder (git ignores it too)."""


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return app_schema()


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


def test_the_committed_document_is_the_app_s_schema(schema: dict[str, Any]) -> None:
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == render(schema), (
        "docs/openapi.json is not the app's schema: run `make openapi` (and `make client`), and commit both"
    )


def test_the_document_is_deterministic(schema: dict[str, Any]) -> None:
    assert render(app_schema()) == render(schema)


def test_the_app_breaks_nothing_the_committed_document_promises(
    schema: dict[str, Any], committed: dict[str, Any]
) -> None:
    assert breaking_changes(committed, schema) == []


def test_every_route_the_guard_protects_declares_its_credentials_and_its_401_and_403(schema: dict[str, Any]) -> None:
    app = create_app(Settings())
    protected = {
        (re.sub(r":[a-z]+}", "}", route.path), method.lower())
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method, (handler, _) in route.route_handler_map.items()
        if handler.resolve_include_in_schema() and needs_credential(route.path, handler)
    }
    documented = {(path, method) for path, method, _ in operations(schema)}
    assert protected and protected <= documented
    schemes = schema["components"]["securitySchemes"]
    assert (schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]) == ("http", "bearer")
    assert (schemes["apiKeyAuth"]["in"], schemes["apiKeyAuth"]["name"]) == ("header", "X-API-Key")
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        if (path, method) not in protected:
            assert "security" not in operation, where
            continue
        assert {"bearerAuth": []} in operation.get("security", []), where
        assert {"apiKeyAuth": []} in operation["security"], where
        for status, component in (("401", "ProblemOut"), ("403", "ForbiddenProblemOut")):
            content = operation["responses"].get(status, {}).get("content", {})
            assert content.get("application/problem+json", {}).get("schema") == {
                "$ref": f"#/components/schemas/{component}"
            }, f"{where} does not declare its {status} problem: use protected_responses() of entrypoints.http.openapi"


def test_the_platform_operator_s_routes_do_not_offer_the_development_headers(schema: dict[str, Any]) -> None:
    for path in ("/api/v1/legacy/usage", "/api/v1/admin/consistency/latest"):
        assert schema["paths"][path]["get"]["security"] == [{"bearerAuth": []}, {"apiKeyAuth": []}]
    flows = schema["paths"]["/api/v1/flows"]["post"]["security"]
    assert {"devClientAccountId": [], "devEngagementId": []} in flows


def test_statuses_operations_phase_states_and_roles_are_the_domain_s_enums(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for enum in (FlowStatus, Operation, PhaseState, Role):
        assert components[enum.__name__]["enum"] == [member.value for member in enum]
    flow = components["FlowOut"]["properties"]
    assert flow["status"] == {"$ref": "#/components/schemas/FlowStatus"}
    assert flow["allowed_operations"]["items"] == {"$ref": "#/components/schemas/Operation"}
    assert components["PhaseOut"]["properties"]["state"] == {"$ref": "#/components/schemas/PhaseState"}
    event = components["EventOut"]["properties"]
    assert event["operation"] == {"$ref": "#/components/schemas/Operation"}
    assert event["to_status"] == {"$ref": "#/components/schemas/FlowStatus"}
    conflict = components["ConflictProblemOut"]["properties"]
    assert {"$ref": "#/components/schemas/FlowStatus"} in conflict["current_status"]["oneOf"]
    assert {"$ref": "#/components/schemas/Operation"} in conflict["requested_operation"]["oneOf"]


def examples_of(schema: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(where, example value, its schema) for every example of a request body or a response."""
    found = []
    for path, method, operation in operations(schema):
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(status, response) for status, response in operation["responses"].items()]
        for label, body in bodies:
            for media_type, content in body.get("content", {}).items():
                where = f"{method.upper()} {path} {label} {media_type}"
                for named in (content.get("examples") or {}).values():
                    found.append((where, named["value"], content["schema"]))
                for value in content.get("schema", {}).get("examples", []):
                    found.append((where, value, {k: v for k, v in content["schema"].items() if k != "examples"}))
    return found


def test_the_examples_fit_their_schemas(schema: dict[str, Any]) -> None:
    found = examples_of(schema)
    where_found = {where.split(" ")[1] + " " + where.split(" ")[2] for where, _, _ in found}
    for expected in ("/api/v1/flows request", "/api/v1/flows 201", "/api/v1/flows/{flow_id}/input request"):
        assert expected in where_found, expected
    assert any("409" in where for where, _, _ in found) and any("401" in where for where, _, _ in found)
    for where, value, body_schema in found:
        resolver_schema = {**body_schema, "components": schema["components"]}
        try:
            jsonschema.validate(value, resolver_schema, cls=jsonschema.Draft202012Validator)
        except jsonschema.ValidationError as wrong:
            pytest.fail(f"the example of {where} does not fit its schema: {wrong.message}")


def generator() -> Any:
    spec = importlib.util.spec_from_file_location("client_generation", ROOT / "clients" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated_files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not any(part.endswith(NOT_GENERATED) for part in path.relative_to(folder).parts)
    }


def test_the_python_client_is_generated_from_the_committed_document(tmp_path: Path) -> None:
    fresh = tmp_path / "python"
    generator().generate(fresh)
    expected, actual = generated_files(fresh), generated_files(CLIENT)
    stale = sorted(name for name in expected.keys() | actual.keys() if expected.get(name) != actual.get(name))
    assert not stale, f"clients/python is not generated from docs/openapi.json: run `make client` ({stale[:10]})"
