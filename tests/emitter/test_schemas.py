"""The bundled facet schemas: valid JSON Schema, shaped like OpenLineage facets, examples valid."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mllineage.schemas import (
    SchemaNotFound,
    all_schemas,
    facet_keys,
    load_schema,
    schema_for_facet_key,
    schema_url_for_facet_key,
)
from tests.emitter.spec import REPO, SpecValidator

EXPECTED = {
    "mllineage_featureGroup": ("MLLineageFeatureGroupDatasetFacet", "DatasetFacet"),
    "mllineage_model": ("MLLineageModelDatasetFacet", "DatasetFacet"),
    "mllineage_endpoint": ("MLLineageEndpointDatasetFacet", "DatasetFacet"),
    "mllineage_dataset": ("MLLineageDatasetDatasetFacet", "DatasetFacet"),
    "mllineage_training": ("MLLineageTrainingRunFacet", "RunFacet"),
}
SCHEMAS = sorted(all_schemas().items())


def test_one_schema_per_design_facet() -> None:
    assert set(facet_keys()) == set(EXPECTED)
    files = sorted(p.name for p in (REPO / "schemas").glob("MLLineage*.json"))
    assert files == sorted(f"{name}.json" for name, _ in EXPECTED.values())


@pytest.mark.parametrize(("key", "expected"), sorted(EXPECTED.items()))
def test_schema_shape(key: str, expected: tuple[str, str]) -> None:
    name, base = expected
    schema = schema_for_facet_key(key)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://mllineage.dev/spec/facets/1-0-0/{name}.json"
    assert re.fullmatch(r"https://mllineage\.dev/spec/facets/\d+-\d+-\d+/\w+\.json", schema["$id"])
    assert schema["properties"] == {key: {"$ref": f"#/$defs/{name}"}}
    definition = schema["$defs"][name]
    assert definition["allOf"][0] == {
        "$ref": f"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/{base}"
    }
    assert schema["description"]
    assert schema["examples"], "every schema carries examples"
    for field, sub in definition["allOf"][1]["properties"].items():
        assert sub.get("description"), f"{key}.{field} has no description"


@pytest.mark.parametrize(("schema_id", "schema"), SCHEMAS, ids=[s for s, _ in SCHEMAS])
def test_examples_validate(spec: SpecValidator, schema_id: str, schema: dict[str, Any]) -> None:
    validator = spec.validator(schema)
    for example in schema["examples"]:
        validator.validate(example)
    # Field-level examples are valid values of their field.
    (name,) = (n for n in schema["$defs"] if n.startswith("MLLineage"))
    for field, sub in schema["$defs"][name]["allOf"][1]["properties"].items():
        field_validator = spec.validator({**sub, "$defs": schema["$defs"], "$id": schema_id})
        for value in sub.get("examples", []):
            assert field_validator.is_valid(value), f"{field} example {value!r}"


@pytest.mark.parametrize(("schema_id", "schema"), SCHEMAS, ids=[s for s, _ in SCHEMAS])
def test_schemas_reject_facets_without_base_fields(
    spec: SpecValidator, schema_id: str, schema: dict[str, Any]
) -> None:
    (key,) = schema["properties"]
    example = schema["examples"][0][key]
    without_producer = {k: v for k, v in example.items() if k != "_producer"}
    assert not spec.validator(schema).is_valid({key: without_producer})
    assert not spec.validator(schema).is_valid({key: {**example, "_schemaURL": "not a uri"}})


def test_format_assertion_is_active(spec: SpecValidator) -> None:
    checker = Draft202012Validator.FORMAT_CHECKER
    assert not checker.conforms("not a uri", "uri")
    assert not checker.conforms("2024-13-45", "date-time")
    assert not checker.conforms("not-a-uuid", "uuid")


def test_load_schema_by_id_schema_url_and_key() -> None:
    for key, schema_id in facet_keys().items():
        url = schema_url_for_facet_key(key)
        assert url.startswith(schema_id + "#/$defs/MLLineage")
        assert load_schema(url) == load_schema(schema_id) == schema_for_facet_key(key)
        assert load_schema(schema_id)["$id"] == schema_id


def test_unknown_schema_raises() -> None:
    with pytest.raises(SchemaNotFound):
        load_schema("https://openlineage.io/spec/facets/1-0-0/TagsDatasetFacet.json")
    with pytest.raises(SchemaNotFound):
        schema_for_facet_key("mllineage_nope")
    with pytest.raises(LookupError):
        schema_url_for_facet_key("tags")


def test_returned_schemas_are_copies() -> None:
    schema = schema_for_facet_key("mllineage_model")
    schema["$id"] = "mutated"
    all_schemas()[next(iter(facet_keys().values()))]["title"] = "mutated"
    assert schema_for_facet_key("mllineage_model")["$id"].endswith(
        "MLLineageModelDatasetFacet.json"
    )
    assert all(s["title"] != "mutated" for s in all_schemas().values())


def test_schemas_module_needs_only_the_stdlib() -> None:
    code = (
        "import sys; import mllineage.schemas as s; s.all_schemas(); "
        "bad = {'jsonschema', 'referencing', 'openlineage', 'attr', 'pandas', 'pyarrow'}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_emitter_import_needs_no_optional_or_server_dependency() -> None:
    code = (
        "import sys; import mllineage.emitter; "
        "heavy = {'pandas', 'pyarrow', 'numpy', 'fastapi', 'sqlalchemy', 'airflow', 'pyspark'}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_committed_facet_docs_are_in_sync() -> None:
    generated = subprocess.run(
        [sys.executable, "-m", "mllineage.schemas.docs"], capture_output=True, text=True, check=True
    ).stdout
    committed = (REPO / "docs" / "facets.md").read_text(encoding="utf-8")
    assert committed == generated, "regenerate: python -m mllineage.schemas.docs > docs/facets.md"
