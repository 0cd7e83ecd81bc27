"""The JSON Schema of field_mapping's input: what :func:`phases.accept_field_mapping` accepts."""

from __future__ import annotations

from typing import Any

from adapters.flow_types.discovery.phases import TARGET_FIELDS

FIELD_MAPPING_INPUT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Field mappings",
    "description": "Approve the mapping of each imported column to a target field (one column must map to 'name'), "
    "or reject the proposal to keep the flow waiting.",
    "type": "object",
    "required": ["approved"],
    "properties": {
        "approved": {"type": "boolean", "title": "Approve", "default": True},
        "mappings": {
            "type": "object",
            "title": "Source column -> target field",
            "description": "Empty: the proposed mappings as they are.",
            "additionalProperties": {"type": "string", "enum": list(TARGET_FIELDS)},
            "x-prefill": "/proposed_mappings",
        },
    },
}
