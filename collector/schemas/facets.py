"""Pydantic models of the standard OpenLineage facets, looked up by facet key and position.

Each model checks what the official facet schema (``shared/openlineage-spec/facets``) requires
structurally: required fields and value types. A facet that breaks them makes the event invalid
(422), like the fluentd proxy's negative fixtures. Two things are deliberately *not* errors because
real producers emit them (they become validation warnings instead):

- ``format`` violations (``dataSource.uri: "file"``, zone-less date-times, non-UUID run ids):
  fields marked ``Uri``/``DateTime``/``Uuid`` are checked by ``format_problems``;
- the ``dataQualityMetrics`` input facet of older spec versions, which required ``rowCount`` and
  not ``columnMetrics``: either one is accepted, a missing ``columnMetrics`` is a warning.

Unknown keys are custom facets and get only the base-facet check (``_producer``/``_schemaURL``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    model_validator,
)

Position = Literal["run", "job", "dataset", "inputFacets", "outputFacets"]


@dataclass(frozen=True)
class Format:
    """Marks a string field whose JSON Schema ``format`` we check as a warning, not an error."""

    name: Literal["uri", "date-time", "uuid"]


Uri = Annotated[str, Format("uri")]
DateTime = Annotated[str, Format("date-time")]
Uuid = Annotated[str, Format("uuid")]
Number = StrictInt | StrictFloat


class _Facet(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def spec_deviations(self) -> list[tuple[str, str]]:
        """Accepted departures from the current schema, as (relative pointer, message)."""
        return []


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- dataset facets ---------------------------------------------------------------------------


class SchemaField(_Part):
    name: str
    type: str | None = None
    description: str | None = None
    ordinal_position: StrictInt | None = None
    fields: list[SchemaField] = Field(default_factory=list)


class SchemaDatasetFacet(_Facet):
    fields: list[SchemaField] = Field(default_factory=list)


class DatasourceDatasetFacet(_Facet):
    name: str | None = None
    uri: Uri | None = None


class DocumentationFacet(_Facet):
    description: str
    contentType: str | None = None


class Owner(_Part):
    name: str
    type: str | None = None


class OwnershipFacet(_Facet):
    owners: list[Owner] = Field(default_factory=list)


class Transformation(_Part):
    type: str
    subtype: str | None = None
    description: str | None = None
    masking: StrictBool | None = None


class InputField(_Part):
    namespace: str
    name: str
    field: str
    transformations: list[Transformation] = Field(default_factory=list)


class ColumnLineageField(_Part):
    inputFields: list[InputField]
    transformationDescription: str | None = None
    transformationType: str | None = None


class ColumnLineageDatasetFacet(_Facet):
    fields: dict[str, ColumnLineageField]
    dataset: list[InputField] = Field(default_factory=list)


class SymlinkIdentifier(_Part):
    namespace: str
    name: str
    type: str


class SymlinksDatasetFacet(_Facet):
    identifiers: list[SymlinkIdentifier] = Field(default_factory=list)


class DatasetTag(_Part):
    key: str
    value: str
    source: str | None = None
    field: str | None = None


class TagsDatasetFacet(_Facet):
    tags: list[DatasetTag] = Field(default_factory=list)


class Tag(_Part):
    key: str
    value: str
    source: str | None = None


class TagsFacet(_Facet):
    tags: list[Tag] = Field(default_factory=list)


class DatasetVersionDatasetFacet(_Facet):
    datasetVersion: str


class DatasetTypeDatasetFacet(_Facet):
    datasetType: str
    subType: str | None = None


class StorageDatasetFacet(_Facet):
    storageLayer: str
    fileFormat: str | None = None


class LifecycleStateChangeDatasetFacet(_Facet):
    lifecycleStateChange: Literal["ALTER", "CREATE", "DROP", "OVERWRITE", "RENAME", "TRUNCATE"]
    previousIdentifier: dict[str, Any] | None = None


class CatalogDatasetFacet(_Facet):
    framework: str
    type: str
    name: str
    metadataUri: str | None = None
    warehouseUri: str | None = None
    source: str | None = None
    catalogProperties: dict[str, Any] | None = None


class HierarchyLevel(_Part):
    type: str
    name: str


class HierarchyDatasetFacet(_Facet):
    hierarchy: list[HierarchyLevel]


class ColumnMetric(_Part):
    nullCount: StrictInt | None = None
    distinctCount: StrictInt | None = None
    sum: Number | None = None
    count: Number | None = None
    min: Number | None = None
    max: Number | None = None
    quantiles: dict[str, Number] | None = None


class DataQualityMetricsFacet(_Facet):
    rowCount: StrictInt | None = None
    bytes: StrictInt | None = None
    fileCount: StrictInt | None = None
    lastUpdated: DateTime | None = None
    columnMetrics: dict[str, ColumnMetric] | None = None

    @model_validator(mode="after")
    def _has_metrics(self) -> DataQualityMetricsFacet:
        if self.columnMetrics is None and self.rowCount is None:
            raise ValueError(
                "dataQualityMetrics needs columnMetrics (spec 1-0-2+) or rowCount (older specs)"
            )
        return self

    def spec_deviations(self) -> list[tuple[str, str]]:
        if self.columnMetrics is None:
            return [("/columnMetrics", "missing (required since spec 1-0-2; older form accepted)")]
        return []


class Assertion(_Part):
    assertion: str
    success: StrictBool
    column: str | None = None


class DataQualityAssertionsDatasetFacet(_Facet):
    assertions: list[Assertion]


class InputStatisticsFacet(_Facet):
    rowCount: StrictInt | None = None
    size: StrictInt | None = None
    fileCount: StrictInt | None = None


class OutputStatisticsFacet(_Facet):
    rowCount: StrictInt | None = None
    size: StrictInt | None = None
    fileCount: StrictInt | None = None


# --- job facets ---------------------------------------------------------------------------------


class SQLJobFacet(_Facet):
    query: str
    dialect: str | None = None


class SourceCodeJobFacet(_Facet):
    language: str
    sourceCode: str


class SourceCodeLocationJobFacet(_Facet):
    type: str
    url: Uri
    repoUrl: str | None = None
    path: str | None = None
    version: str | None = None
    tag: str | None = None
    branch: str | None = None


class JobTypeJobFacet(_Facet):
    processingType: str
    integration: str
    jobType: str | None = None


# --- run facets ---------------------------------------------------------------------------------


class RunRef(_Part):
    runId: Uuid


class JobRef(_Part):
    namespace: str
    name: str


class ParentRunFacet(_Facet):
    run: RunRef
    job: JobRef
    root: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _root_shape(self) -> ParentRunFacet:
        if self.root is not None:
            RunRef.model_validate(self.root.get("run"))
            JobRef.model_validate(self.root.get("job"))
        return self


class NominalTimeRunFacet(_Facet):
    nominalStartTime: DateTime
    nominalEndTime: DateTime | None = None


class ErrorMessageRunFacet(_Facet):
    message: str
    programmingLanguage: str
    stackTrace: str | None = None


class ProcessingEngineRunFacet(_Facet):
    version: str
    name: str | None = None
    openlineageAdapterVersion: str | None = None


class ExternalQueryRunFacet(_Facet):
    externalQueryId: str
    source: str


class EnvironmentVariable(_Part):
    name: str
    value: str


class EnvironmentVariablesRunFacet(_Facet):
    environmentVariables: list[EnvironmentVariable]


class TestExecution(_Part):
    name: str
    status: str


class TestRunFacet(_Facet):
    tests: list[TestExecution]


class ExtractionErrorRunFacet(_Facet):
    totalTasks: StrictInt
    failedTasks: StrictInt
    errors: list[dict[str, Any]]


STANDARD_FACETS: dict[Position, dict[str, type[_Facet]]] = {
    "dataset": {
        "schema": SchemaDatasetFacet,
        "dataSource": DatasourceDatasetFacet,
        "documentation": DocumentationFacet,
        "ownership": OwnershipFacet,
        "columnLineage": ColumnLineageDatasetFacet,
        "symlinks": SymlinksDatasetFacet,
        "tags": TagsDatasetFacet,
        "version": DatasetVersionDatasetFacet,
        "datasetType": DatasetTypeDatasetFacet,
        "storage": StorageDatasetFacet,
        "lifecycleStateChange": LifecycleStateChangeDatasetFacet,
        "catalog": CatalogDatasetFacet,
        "hierarchy": HierarchyDatasetFacet,
        "dataQualityMetrics": DataQualityMetricsFacet,
    },
    "inputFacets": {
        "dataQualityMetrics": DataQualityMetricsFacet,
        "dataQualityAssertions": DataQualityAssertionsDatasetFacet,
        "inputStatistics": InputStatisticsFacet,
    },
    "outputFacets": {"outputStatistics": OutputStatisticsFacet},
    "job": {
        "sql": SQLJobFacet,
        "sourceCode": SourceCodeJobFacet,
        "sourceCodeLocation": SourceCodeLocationJobFacet,
        "jobType": JobTypeJobFacet,
        "documentation": DocumentationFacet,
        "ownership": OwnershipFacet,
        "tags": TagsFacet,
    },
    "run": {
        "parent": ParentRunFacet,
        "nominalTime": NominalTimeRunFacet,
        "errorMessage": ErrorMessageRunFacet,
        "processing_engine": ProcessingEngineRunFacet,
        "externalQuery": ExternalQueryRunFacet,
        "environmentVariables": EnvironmentVariablesRunFacet,
        "test": TestRunFacet,
        "extractionError": ExtractionErrorRunFacet,
        "tags": TagsFacet,
    },
}


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*$")


def format_ok(name: str, value: str) -> bool:
    """The JSON Schema formats we check: RFC 3986 absolute URI, RFC 3339 date-time, UUID."""
    if name == "uri":
        return bool(_URI.match(value))
    if name == "uuid":
        try:
            UUID(value)
        except ValueError:
            return False
        return len(value) == 36
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None and "T" in value.upper()


def format_problems(model: BaseModel, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Yield (pointer, message) for every ``Format``-marked field whose value breaks its format."""
    checks, nested = _format_plan(type(model))
    for name, alias, expected in checks:
        value = getattr(model, name)
        if isinstance(value, str) and not format_ok(expected, value):
            yield f"{pointer}/{alias}", f"{value!r} is not a valid {expected}"
    for name, alias in nested:
        yield from _nested_problems(getattr(model, name), f"{pointer}/{alias}")


@cache
def _format_plan(
    model: type[BaseModel],
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Per model class, once: its format-checked fields, and the fields that may nest some."""
    checks, nested = [], []
    for name, info in model.model_fields.items():
        alias = info.alias or name
        expected = _format_of(info.annotation, info.metadata)
        if expected is not None:
            checks.append((name, alias, expected))
        elif any(_has_formats(sub, {model}) for sub in _models_in(info.annotation)):
            nested.append((name, alias))
    return checks, nested


def _has_formats(model: type[BaseModel], seen: set[type[BaseModel]]) -> bool:
    """Whether any field of ``model``, at any depth, is ``Format``-marked (cycle-safe)."""
    if model in seen:
        return False
    seen.add(model)
    for info in model.model_fields.values():
        if _format_of(info.annotation, info.metadata) is not None:
            return True
        if any(_has_formats(sub, seen) for sub in _models_in(info.annotation)):
            return True
    return False


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


def _format_of(annotation: Any, metadata: list[Any]) -> str | None:
    """The ``Format`` of a field, also when it sits inside ``Optional[...]``."""
    for meta in metadata:
        if isinstance(meta, Format):
            return meta.name
    for arg in get_args(annotation):
        found = _format_of(arg, list(getattr(arg, "__metadata__", ())))
        if found is not None:
            return found
    return None


def _nested_problems(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, BaseModel):
        yield from format_problems(value, pointer)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nested_problems(item, f"{pointer}/{index}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nested_problems(item, f"{pointer}/{key}")
