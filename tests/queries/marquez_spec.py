"""Validate answers against the schemas of Marquez's ``openapi.yml`` (OpenAPI 3.0 -> JSON Schema).

OpenAPI 3.0 schemas are JSON Schema with two differences that matter here: ``nullable: true``
(JSON Schema spells it as a ``null`` alternative) and ``#/components/schemas/…`` references.
Examples are dropped (YAML turns their dates into Python objects), a ``discriminator``'s
``oneOf`` is read as ``anyOf`` (JSON Schema ignores discriminators). Two readings of the spec:
every property may be ``null`` (the spec marks almost none nullable, yet Marquez answers null
for unknown values, e.g. a dataset's ``description``, which it lists as required), and
``_ERRATA`` fixes where the spec contradicts its own example.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

#: (schema, property) -> what Marquez answers, where the spec contradicts its own example
#: (a version's ``tags`` is a list) or Marquez (``/jobs/runs/{id}/facets`` answers the map of
#: facets by key, not one facet); and Marquez's node types include its column-lineage nodes.
_ERRATA: dict[tuple[str, str | None], Any] = {
    ("DatasetVersion", "tags"): {"type": "array", "items": {"type": "string"}},
    ("FacetsResult", "facets"): {"$ref": "#/components/schemas/RunFacets"},
    ("NodeType", None): {"type": "string", "enum": ["JOB", "DATASET", "DATASET_FIELD"]},
}


def _nullable_properties(schema: Any) -> Any:
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        schema["properties"] = {
            name: {"anyOf": [value, {"type": "null"}]}
            for name, value in schema["properties"].items()
        }
    return schema


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: _convert(value)
        for key, value in node.items()
        if key not in ("example", "examples", "nullable")
        and not (key == "type" and value is None)  # a bare ``type:`` in the YAML: untyped
    }
    if "discriminator" in converted:
        # JSON Schema has no discriminator: ``oneOf`` of schemas that allow extra properties
        # would match both; the discriminator picks one, so any one matching is the reading.
        del converted["discriminator"]
        converted["anyOf"] = converted.pop("oneOf")
    if "$ref" in converted:
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return _nullable_properties(converted)


@cache
def _definitions(spec_path: Path) -> dict[str, Any]:
    spec = yaml.safe_load(spec_path.read_text())
    schemas = spec["components"]["schemas"]
    for (schema, prop), fixed in _ERRATA.items():
        if prop is None:
            schemas[schema] = fixed
        else:
            schemas[schema]["properties"][prop] = fixed
    return {name: _convert(schema) for name, schema in schemas.items()}


def validate(shared_dir: Path, schema_name: str, answer: Any) -> None:
    """Raise ``jsonschema.ValidationError`` (with its path) unless ``answer`` fits the schema."""
    definitions = _definitions(shared_dir / "marquez-spec" / "openapi.yml")
    schema = {"$defs": definitions, "$ref": f"#/$defs/{schema_name}"}
    error = best_match(Draft202012Validator(schema).iter_errors(answer))
    if error is not None:
        raise error
