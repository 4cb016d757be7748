"""Validation against the shared corpus, with the official JSON Schemas as the oracle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from mllineage.collector.errors import InvalidEvent
from mllineage.collector.ingest.validate import EventValidator
from mllineage.collector.schemas.facets import STANDARD_FACETS, Position
from tests.collector.corpus import load_corpus
from tests.conftest import shared_path

validator = EventValidator()


def test_every_conforming_event_is_accepted_without_warnings(shared_dir: Path) -> None:
    corpus = load_corpus(shared_dir, "events")
    assert len(corpus) == 108
    for name, payload in corpus:
        parsed = validator.validate(payload)
        assert parsed.warnings == [], name


def test_every_nonconforming_event_is_accepted_with_a_recorded_warning(shared_dir: Path) -> None:
    corpus = load_corpus(shared_dir, "nonconforming")
    assert len(corpus) == 63
    for name, payload in corpus:
        parsed = validator.validate(payload)
        assert parsed.warnings, f"{name}: accepted silently, but it breaks the spec"


def _index(shared_dir: Path) -> dict[str, dict[str, Any]]:
    entries = json.loads((shared_dir / "conformance" / "index.json").read_text())
    return {entry["file"]: entry for entry in entries}


def test_nonconforming_warnings_name_the_fields_the_index_names(shared_dir: Path) -> None:
    """The index says *why* each file is nonconforming; our warnings point at the same place."""
    index = _index(shared_dir)
    for name, payload in load_corpus(shared_dir, "nonconforming"):
        locs = {w.loc for w in validator.validate(payload).warnings}
        for error in index[f"nonconforming/{name}"]["errors"]:
            if "<root>: 'schemaURL' is a required property" in error:
                assert "/schemaURL" in locs, name
            elif "'file' is not a 'uri'" in error or "'bigquery' is not a 'uri'" in error:
                assert any(loc.endswith("/dataSource/uri") for loc in locs), name
            elif "eventTime" in error and "date-time" in error:
                assert "/eventTime" in locs, name


def test_every_invalid_event_is_rejected_naming_field_and_problem(shared_dir: Path) -> None:
    expected = {
        "proxy/fluentd-event_invalid_dataset_facet.json": "/outputs/0/facets/ownership/owners/0/name",
        "proxy/fluentd-event_invalid_input_dataset_facet.json": "/inputs/0/inputFacets/dataQualityMetrics",
        "proxy/fluentd-event_invalid_job_facet.json": "/job/facets/ownership/owners/0/name",
        "proxy/fluentd-event_invalid_output_dataset_facet.json": "/outputs/0/outputFacets/outputStatistics/rowCount",
        "proxy/fluentd-event_invalid_run_facet.json": "/run/facets/parent/run/runId",
        "proxy/fluentd-event_no_run_id.json": "/run/runId",
    }
    corpus = load_corpus(shared_dir, "invalid")
    assert sorted(name for name, _ in corpus) == sorted(expected)
    for name, payload in corpus:
        with pytest.raises(InvalidEvent) as caught:
            validator.validate(payload)
        assert [d.loc for d in caught.value.details] == [expected[name]]
        assert all(d.msg for d in caught.value.details)


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ([], ""),
        ({"eventTime": "2024-01-01T00:00:00Z", "producer": "x"}, ""),
        (
            {
                "eventTime": "yesterday",
                "producer": "https://p",
                "job": {"namespace": "n", "name": "j"},
            },
            "/eventTime",
        ),
        (
            {"eventTime": "2024-01-01T00:00:00Z", "producer": "https://p", "run": {"runId": "x"}},
            "/job",
        ),
        (
            {
                "eventTime": "2024-01-01T00:00:00Z",
                "producer": "https://p",
                "eventType": "DONE",
                "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8"},
                "job": {"namespace": "n", "name": "j"},
            },
            "/eventType",
        ),
        (
            {
                "eventTime": "2024-01-01T00:00:00Z",
                "producer": "https://p",
                "dataset": {
                    "namespace": "n",
                    "name": "d",
                    "facets": {"schema": {"fields": [{"type": "int"}]}},
                },
            },
            "/dataset/facets/schema/fields/0/name",
        ),
    ],
)
def test_bad_events_are_rejected_with_a_located_reason(payload: Any, loc: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        validator.validate(payload)
    assert loc in [d.loc for d in caught.value.details]


def test_strict_mode_rejects_what_lenient_mode_only_warns_about(shared_dir: Path) -> None:
    strict = EventValidator(strict=True)
    for name, payload in load_corpus(shared_dir, "nonconforming"):
        with pytest.raises(InvalidEvent):
            strict.validate(payload)
        assert validator.validate(payload).warnings, name


# --- the official facet schemas are the oracle for our pydantic facet models -------------------

_POSITION_BASE: dict[Position, str] = {
    "run": "RunFacet",
    "job": "JobFacet",
    "dataset": "DatasetFacet",
    "inputFacets": "InputDatasetFacet",
    "outputFacets": "OutputDatasetFacet",
}


def _facet_schemas(shared_dir: Path) -> tuple[Registry, dict[tuple[Position, str], str]]:
    spec = shared_dir / "openlineage-spec"
    resources = []
    by_key: dict[tuple[Position, str], str] = {}
    for path in [spec / "OpenLineage.json", *spec.glob("facets/*.json")]:
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
        if path.name == "OpenLineage.json":
            continue
        for key, prop in schema.get("properties", {}).items():
            if "$ref" not in prop:
                continue
            definition = schema["$defs"][prop["$ref"].split("/")[-1]]
            refs = [part.get("$ref", "") for part in definition.get("allOf", [])]
            for position, base in _POSITION_BASE.items():
                if any(ref.endswith(f"/{base}") for ref in refs):
                    by_key[(position, key)] = f"{schema['$id']}#/properties/{key}"
    registry: Registry = Registry().with_resources(resources)
    return registry, by_key


def _facets(payload: dict[str, Any]) -> list[tuple[Position, str, Any]]:
    found: list[tuple[Position, str, Any]] = []
    found += [("run", k, v) for k, v in payload.get("run", {}).get("facets", {}).items()]
    found += [("job", k, v) for k, v in payload.get("job", {}).get("facets", {}).items()]
    for side, io_key in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for dataset in payload.get(side, []):
            found += [("dataset", k, v) for k, v in dataset.get("facets", {}).items()]
            found += [(io_key, k, v) for k, v in dataset.get(io_key, {}).items()]  # type: ignore[misc]
    found += [("dataset", k, v) for k, v in payload.get("dataset", {}).get("facets", {}).items()]
    return found


@pytest.mark.skipif(shared_path() is None, reason="../shared is not present")
def test_facet_models_agree_with_the_official_schemas(shared_dir: Path) -> None:
    """Structural verdicts (formats off) of our models equal the JSON Schemas' on every facet."""
    registry, refs = _facet_schemas(shared_dir)
    known_deviation = {"dataQualityMetrics"}  # we also accept the pre-1-0-2 form (rowCount only)
    checked = 0
    for bucket in ("events", "nonconforming", "invalid"):
        for name, payload in load_corpus(shared_dir, bucket):
            for position, key, facet in _facets(payload):
                model = STANDARD_FACETS[position].get(key)
                if model is None or (position, key) not in refs or facet.get("_deleted"):
                    continue
                # A missing _producer/_schemaURL is a recorded warning, not a structural error.
                with_base = {"_producer": "https://p", "_schemaURL": "https://s", **facet}
                schema_ok = Draft202012Validator(
                    {"$ref": refs[(position, key)]}, registry=registry
                ).is_valid(with_base)
                try:
                    model.model_validate(facet)
                    model_ok = True
                except ValueError:
                    model_ok = False
                if key in known_deviation and model_ok and not schema_ok:
                    assert "rowCount" in facet
                    assert "columnMetrics" not in facet
                    continue
                assert model_ok == schema_ok, f"{bucket}/{name}: {position}.{key}"
                checked += 1
    assert checked > 300
