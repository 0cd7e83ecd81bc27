"""The JSON Schema of recommendation_review's input: what :func:`phases.accept_review` accepts."""

from __future__ import annotations

from typing import Any

from adapters.flow_types.assessment.scoring import STRATEGIES

RECOMMENDATION_REVIEW_INPUT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Recommendation review",
    "description": "Approve the 6R recommendations, overriding the strategy of any application, or reject them "
    "to keep the flow waiting.",
    "type": "object",
    "required": ["approved"],
    "properties": {
        "approved": {"type": "boolean", "title": "Approve", "default": True},
        "overrides": {
            "type": "object",
            "title": "Application -> strategy",
            "description": "Only the applications whose recommended strategy you change.",
            "additionalProperties": {"type": "string", "enum": list(STRATEGIES)},
            "x-keys": "/recommendations",
        },
    },
}
