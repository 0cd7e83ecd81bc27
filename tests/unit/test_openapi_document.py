"""Writing docs/openapi.json: deterministic text, and no breaking change written unless it is allowed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from entrypoints.http.openapi_document import render, write


def schema(*operations: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "paths": {f"/{name}": {"get": {"operationId": name, "responses": {"200": {}}}} for name in operations},
    }


def test_the_text_has_sorted_keys_two_space_indents_and_a_final_newline() -> None:
    text = render({"b": 1, "a": {"d": [1], "c": "é"}})
    assert text == '{\n  "a": {\n    "c": "é",\n    "d": [\n      1\n    ]\n  },\n  "b": 1\n}\n'
    assert render(json.loads(text)) == text


def test_a_new_document_is_written(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    assert write(target, schema("a"), allow_breaking=False) == []
    assert json.loads(target.read_text()) == schema("a")


def test_a_compatible_change_is_written(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    target.write_text(render(schema("a")))
    assert write(target, schema("a", "b"), allow_breaking=False) == []
    assert target.read_text() == render(schema("a", "b"))


def test_a_breaking_change_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    target.write_text(render(schema("a", "b")))
    assert write(target, schema("a"), allow_breaking=False) == ["removed operation GET /b (b)"]
    assert target.read_text() == render(schema("a", "b"))


def test_a_breaking_change_is_written_when_allowed(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    target.write_text(render(schema("a", "b")))
    assert write(target, schema("a"), allow_breaking=True) == []
    assert target.read_text() == render(schema("a"))
