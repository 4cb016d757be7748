"""Validate answers against the schemas of Marquez's ``openapi.yml`` (OpenAPI 3.0 -> JSON Schema).

OpenAPI 3.0 schemas are JSON Schema with two differences that matter here: ``nullable: true``
(JSON Schema spells it as a ``null`` alternative) and ``#/components/schemas/…`` references.
Examples are dropped (YAML turns their dates into Python objects).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: _convert(value)
        for key, value in node.items()
        if key not in ("example", "examples", "nullable")
    }
    if "$ref" in converted:
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def _definitions(spec_path: Path) -> dict[str, Any]:
    spec = yaml.safe_load(spec_path.read_text())
    return {name: _convert(schema) for name, schema in spec["components"]["schemas"].items()}


def _without_nulls(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_nulls(item) for item in node]
    return node


def validate(shared_dir: Path, schema_name: str, answer: Any) -> None:
    """Raise ``jsonschema.ValidationError`` (with its path) unless ``answer`` fits the schema.

    A ``null`` field counts as absent (the spec marks few fields nullable, yet Marquez answers
    null for unknown optional values); a *required* field that is null therefore still fails.
    """
    definitions = _definitions(shared_dir / "marquez-spec" / "openapi.yml")
    schema = {"$defs": definitions, "$ref": f"#/$defs/{schema_name}"}
    Draft202012Validator(schema).validate(_without_nulls(answer))
