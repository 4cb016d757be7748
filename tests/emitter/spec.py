"""Offline OpenLineage validation for emitter tests: core schema, standard facets, our facets.

Every schema of ``../shared/openlineage-spec`` and every bundled ``mllineage`` schema is
registered in one ``referencing.Registry`` under its ``$id``, so ``$ref``s to
``https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/...`` resolve to the local copy and
nothing is fetched. ``format`` is asserted (``date-time`` via rfc3339-validator, ``uri`` via
rfc3986-validator, ``uuid`` built in).

Facets are checked per position, the way the shared conformance corpus was sorted: a facet is
validated as ``{key: facet}`` against the standard schema whose top-level property is that key
and whose base is the core facet type of that position (``run.facets`` -> RunFacet, ...);
``mllineage_*`` keys against our bundled schema. Unknown keys get only the core check.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from mllineage.schemas import all_schemas

REPO = Path(__file__).resolve().parents[2]
CORE_ID = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
POSITIONS = {
    "run": "RunFacet",
    "job": "JobFacet",
    "dataset": "DatasetFacet",
    "input": "InputDatasetFacet",
    "output": "OutputDatasetFacet",
}


def shared_dir() -> Path | None:
    """``$MLLINEAGE_SHARED_DIR``, else ``<repo>/../shared``; ``None`` when it is not there."""
    configured = os.environ.get("MLLINEAGE_SHARED_DIR")
    path = Path(configured) if configured else REPO / ".." / "shared"
    return path.resolve() if (path / "openlineage-spec" / "OpenLineage.json").is_file() else None


def _base_of(schema: Mapping[str, Any]) -> str | None:
    """The core facet type (``RunFacet``...) a facet schema extends through allOf/$ref."""
    for definition in schema.get("$defs", {}).values():
        for part in definition.get("allOf", []):
            ref = part.get("$ref", "")
            if ref.startswith(CORE_ID + "#/$defs/"):
                return str(ref.rsplit("/", 1)[1])
    return None


class SpecValidator:
    """Validates events, facets and schemas against the shared spec and our schemas."""

    def __init__(self, spec_dir: Path) -> None:
        documents = [
            json.loads(p.read_text(encoding="utf-8"))
            for p in [spec_dir / "OpenLineage.json", *sorted(spec_dir.glob("facets/*.json"))]
        ]
        self.ours = all_schemas()
        documents.extend(self.ours.values())
        self.registry: Registry[Any] = Registry().with_resources(
            (doc["$id"], Resource.from_contents(doc)) for doc in documents
        )
        self.schemas = {doc["$id"]: doc for doc in documents}
        self.by_position: dict[tuple[str, str], dict[str, Any]] = {}
        for doc in documents:
            base = _base_of(doc)
            if base is not None and len(doc.get("properties", {})) == 1:
                (key,) = doc["properties"]
                self.by_position[(base, key)] = doc
        self._core = self.validator(self.schemas[CORE_ID])

    def validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        return Draft202012Validator(
            schema, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )

    def facet_schema(self, position: str, key: str) -> dict[str, Any] | None:
        return self.by_position.get((POSITIONS[position], key))

    def facet_errors(self, position: str, key: str, facet: Any) -> list[str]:
        """Errors of one facet (empty when valid); an unknown key is only core-checked."""
        schema = self.facet_schema(position, key)
        if schema is None:
            return []
        return [
            f"{position}.{key}{list(e.absolute_path)}: {e.message}"
            for e in self.validator(schema).iter_errors({key: facet})
        ]

    def event_errors(self, event: Mapping[str, Any]) -> list[str]:
        """Every core-schema and facet-schema error of an event (empty when valid)."""
        errors = [
            f"core{list(e.absolute_path)}: {e.message}" for e in self._core.iter_errors(event)
        ]
        for position, key, facet in _facets(event):
            errors.extend(self.facet_errors(position, key, facet))
        return errors

    def assert_valid(self, event: Mapping[str, Any]) -> None:
        errors = self.event_errors(event)
        assert not errors, "\n".join(errors)

    def checked_keys(self, event: Mapping[str, Any]) -> set[str]:
        """Facet keys of ``event`` that have a schema (so were checked beyond the core)."""
        return {key for pos, key, _ in _facets(event) if self.facet_schema(pos, key) is not None}


def _facets(event: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for key, facet in event.get("run", {}).get("facets", {}).items():
        yield "run", key, facet
    for key, facet in event.get("job", {}).get("facets", {}).items():
        yield "job", key, facet
    datasets = [*event.get("inputs", []), *event.get("outputs", [])]
    if "dataset" in event:
        datasets.append(event["dataset"])
    for ds in datasets:
        for key, facet in ds.get("facets", {}).items():
            yield "dataset", key, facet
        for key, facet in ds.get("inputFacets", {}).items():
            yield "input", key, facet
        for key, facet in ds.get("outputFacets", {}).items():
            yield "output", key, facet
