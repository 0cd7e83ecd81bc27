"""Breaking changes between two OpenAPI documents: what a client generated from the old one would trip over.

:func:`breaking_changes` reports, in a stable order,

- an operation (method and path) the new document no longer has;
- a success (2xx) response an operation no longer declares, and a field a response's body no longer has (at any
  depth, through ``$ref``, arrays, maps and ``anyOf``/``oneOf``/``allOf``);
- a value an enum no longer allows: once for a named schema (``components/schemas/FlowStatus``), wherever it is used;
  for an enum declared in place, wherever the operation uses it (a response, the request body or a parameter).

Additions (operations, fields, enum values, responses) are never breaking here, nor are changes of descriptions,
examples or summaries. A field is named by its path in the body: ``items[].status``, ``phase_results{}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
Shape = dict[str, frozenset[Any]]
"""A body's fields by path, each with the values its enum allows (empty: not an enum)."""


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Every breaking change from ``old`` to ``new``, one sentence each; empty when ``new`` is compatible."""
    old_operations, new_operations = operations(old), operations(new)
    problems = [
        f"removed operation {method.upper()} {path}{_named(old_operations[(path, method)])}"
        for path, method in sorted(old_operations.keys() - new_operations.keys())
    ]
    problems.extend(removed_component_enum_values(old, new))
    for key in sorted(old_operations.keys() & new_operations.keys()):
        label = f"{key[1].upper()} {key[0]}"
        problems.extend(operation_changes(label, old, old_operations[key], new, new_operations[key]))
    return problems


def removed_component_enum_values(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    """The values a named enum schema no longer allows (its uses are not listed one by one)."""
    old_schemas, new_schemas = _components(old), _components(new)
    for name in sorted(old_schemas.keys() & new_schemas.keys()):
        old_values, new_values = _enum_of(old_schemas[name]), _enum_of(new_schemas[name])
        if old_values and new_values:
            for value in sorted(old_values - new_values, key=repr):
                yield f"removed enum value {value!r} of the schema {name}"


def operations(document: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(path, method) -> the operation, for every operation of the document."""
    return {
        (path, method): item[method]
        for path, item in (document.get("paths") or {}).items()
        for method in METHODS
        if isinstance(item, Mapping) and isinstance(item.get(method), Mapping)
    }


def operation_changes(
    label: str, old: Mapping[str, Any], before: Mapping[str, Any], new: Mapping[str, Any], after: Mapping[str, Any]
) -> Iterator[str]:
    old_responses, new_responses = before.get("responses") or {}, after.get("responses") or {}
    for status in sorted(old_responses):
        if status not in new_responses:
            if status.startswith("2"):
                yield f"removed response {status} of {label}"
            continue
        for media_type, old_shape in response_shapes(old, old_responses[status]).items():
            new_shape = response_shapes(new, new_responses[status]).get(media_type)
            if new_shape is None:
                yield f"removed {media_type} body of response {status} of {label}"
                continue
            where = f"response {status} of {label}"
            for field in sorted(old_shape.keys() - new_shape.keys()):
                yield f"removed field `{field}` from {where}"
            yield from removed_enum_values(where, old_shape, new_shape)
    yield from removed_enum_values(f"the request body of {label}", body_shape(old, before), body_shape(new, after))
    yield from removed_enum_values(
        f"the parameters of {label}", parameter_shape(old, before), parameter_shape(new, after)
    )


def removed_enum_values(where: str, old_shape: Shape, new_shape: Shape) -> Iterator[str]:
    for field in sorted(old_shape.keys() & new_shape.keys()):
        old_values, new_values = old_shape[field], new_shape[field]
        if old_values and new_values:
            for value in sorted(old_values - new_values, key=repr):
                yield f"removed enum value {value!r} of `{field or '(body)'}` in {where}"


def response_shapes(document: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, Shape]:
    response = resolve(document, response)
    return {
        media_type: shape(document, content.get("schema"))
        for media_type, content in (response.get("content") or {}).items()
    }


def body_shape(document: Mapping[str, Any], operation: Mapping[str, Any]) -> Shape:
    body = resolve(document, operation.get("requestBody") or {})
    merged: Shape = {}
    for content in (body.get("content") or {}).values():
        _merge(merged, shape(document, content.get("schema")))
    return merged


def parameter_shape(document: Mapping[str, Any], operation: Mapping[str, Any]) -> Shape:
    merged: Shape = {}
    for parameter in operation.get("parameters") or []:
        parameter = resolve(document, parameter)
        prefix = f"{parameter.get('in')}:{parameter.get('name')}"
        _merge(merged, shape(document, parameter.get("schema"), prefix))
    return merged


def shape(document: Mapping[str, Any], schema: Any, prefix: str = "", seen: frozenset[str] = frozenset()) -> Shape:
    """The fields of a schema by path, each with its enum's values."""
    found: Shape = {}
    if not isinstance(schema, Mapping):
        return found
    reference = schema.get("$ref")
    if isinstance(reference, str):
        if reference in seen:  # a recursive schema: its fields are listed once
            return found
        target = resolve(document, schema)
        if _enum_of(target):  # a named enum: compared once, by removed_component_enum_values
            return {prefix: frozenset()}
        return shape(document, target, prefix, seen | {reference})
    if _enum_of(schema):
        found[prefix] = _enum_of(schema)
    for combinator in ("anyOf", "oneOf", "allOf"):
        for alternative in schema.get(combinator) or []:
            _merge(found, shape(document, alternative, prefix, seen))
    for name, member in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        found.setdefault(path, frozenset())
        _merge(found, shape(document, member, path, seen))
    if isinstance(schema.get("items"), Mapping):
        _merge(found, shape(document, schema["items"], f"{prefix}[]", seen))
    if isinstance(schema.get("additionalProperties"), Mapping):
        _merge(found, shape(document, schema["additionalProperties"], f"{prefix}{{}}", seen))
    return found


def resolve(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """``node``, or what its local ``$ref`` (``#/components/...``) points at ({} when it points nowhere)."""
    reference = node.get("$ref")
    if not isinstance(reference, str):
        return node
    target: Any = document
    for part in reference.removeprefix("#/").split("/"):
        target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, Mapping) else None
    return target if isinstance(target, Mapping) else {}


def _components(document: Mapping[str, Any]) -> Mapping[str, Any]:
    return (document.get("components") or {}).get("schemas") or {}


def _enum_of(schema: Mapping[str, Any]) -> frozenset[Any]:
    """The values an enum (or a ``const``) allows; empty when the schema is not one."""
    if isinstance(schema.get("enum"), list):
        return frozenset(_hashable(value) for value in schema["enum"])
    if "const" in schema:
        return frozenset({_hashable(schema["const"])})
    return frozenset()


def _merge(into: Shape, other: Shape) -> None:
    for path, values in other.items():
        into[path] = into.get(path, frozenset()) | values


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


def _named(operation: Mapping[str, Any]) -> str:
    operation_id = operation.get("operationId")
    return f" ({operation_id})" if operation_id else ""
