"""Marquez's read API shapes (field names as Marquez serialises them: camelCase).

Taken from Marquez's service models (``api/src/main/java/marquez/service/models``), its OpenAPI
spec and web UI types: list envelopes carry ``totalCount``; lineage graphs are
``{"graph": [{id, type, data, inEdges, outEdges}]}`` with ``origin``/``destination`` edges.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from pydantic import Field as PydanticField


class DatasetId(BaseModel):
    namespace: str
    name: str


class DatasetVersionId(BaseModel):
    namespace: str
    name: str
    version: str


class JobId(BaseModel):
    namespace: str
    name: str


class JobVersionId(BaseModel):
    namespace: str
    name: str
    version: str


class Field(BaseModel):
    name: str
    type: str | None
    tags: list[str]
    description: str | None


class Namespace(BaseModel):
    name: str
    createdAt: datetime
    updatedAt: datetime
    ownerName: str
    description: str | None
    isHidden: bool


class NamespaceList(BaseModel):
    namespaces: list[Namespace]
    totalCount: int


RunState = Literal["NEW", "RUNNING", "COMPLETED", "FAILED", "ABORTED"]


class Run(BaseModel):
    id: str
    createdAt: datetime
    updatedAt: datetime
    nominalStartTime: datetime | None
    nominalEndTime: datetime | None
    state: RunState
    startedAt: datetime | None
    endedAt: datetime | None
    durationMs: int | None
    args: dict[str, str]
    jobVersion: JobVersionId
    inputVersions: list[DatasetVersionId]
    outputVersions: list[DatasetVersionId]
    context: dict[str, str]
    facets: dict[str, Any]


class RunList(BaseModel):
    runs: list[Run]
    totalCount: int


class ColumnLineageInputField(BaseModel):
    namespace: str
    dataset: str
    field: str
    transformationDescription: str | None
    transformationType: str | None


class ColumnLineage(BaseModel):
    """One output column of a dataset and the input columns it is derived from."""

    name: str
    inputFields: list[ColumnLineageInputField]
    transformationDescription: str | None
    transformationType: str | None


class QualityAssertion(BaseModel):
    assertion: str
    status: str = PydanticField(description="passed, failed, or warning (failed, severity warn)")
    column: str | None
    severity: str | None
    name: str | None
    expected: str | None
    actual: str | None


class DatasetQuality(BaseModel):
    """Ours, not Marquez's: the dataset's latest data-quality checks and profile."""

    status: str | None = PydanticField(description="passed, warning, failed; None: never checked")
    assertions: list[QualityAssertion]
    checkedAt: datetime | None
    checkedByRunId: str | None
    placement: str | None = PydanticField(description="dataset, input, output or run facet")
    profile: dict[str, Any] | None = PydanticField(description="latest dataQualityMetrics")
    profiledAt: datetime | None


class Dataset(BaseModel):
    id: DatasetId
    type: Literal["DB_TABLE", "STREAM"]
    name: str
    physicalName: str
    createdAt: datetime
    updatedAt: datetime
    namespace: str
    sourceName: str
    fields: list[Field]
    tags: list[str]
    lastModifiedAt: datetime | None
    lastLifecycleState: str | None
    description: str | None
    currentVersion: str | None
    facets: dict[str, Any]
    deleted: bool
    columnLineage: list[ColumnLineage] | None

    quality: DatasetQuality | None = None


class DatasetList(BaseModel):
    datasets: list[Dataset]
    totalCount: int


class DatasetVersion(BaseModel):
    id: DatasetVersionId
    type: Literal["DB_TABLE", "STREAM"]
    name: str
    physicalName: str
    createdAt: datetime
    version: str
    namespace: str
    sourceName: str
    fields: list[Field]
    tags: list[str]
    lifecycleState: str | None
    description: str | None
    createdByRun: Run | None
    facets: dict[str, Any]


class DatasetVersionList(BaseModel):
    versions: list[DatasetVersion]
    totalCount: int


class Job(BaseModel):
    id: JobId
    type: Literal["BATCH", "STREAM", "SERVICE"]
    name: str
    simpleName: str
    parentJobName: str | None
    createdAt: datetime
    updatedAt: datetime
    namespace: str
    inputs: list[DatasetId]
    outputs: list[DatasetId]
    location: str | None
    context: dict[str, str]
    description: str | None
    latestRun: Run | None
    latestRuns: list[Run]
    parentJobUuid: str | None
    labels: list[str]
    facets: dict[str, Any]
    currentVersion: str | None
    tags: list[str]


class JobList(BaseModel):
    jobs: list[Job]
    totalCount: int


class RunFacets(BaseModel):
    runId: str
    facets: dict[str, Any]


class Edge(BaseModel):
    origin: str
    destination: str


class LineageNode(BaseModel):
    id: str
    type: Literal["DATASET", "JOB"]
    data: Dataset | Job
    inEdges: list[Edge]
    outEdges: list[Edge]


class LineageGraph(BaseModel):
    graph: list[LineageNode]


class ColumnInputField(BaseModel):
    namespace: str
    dataset: str
    datasetVersion: str | None
    field: str
    transformationDescription: str | None
    transformationType: str | None


class ColumnNodeData(BaseModel):
    namespace: str
    dataset: str
    datasetVersion: str | None
    field: str
    fieldType: str | None
    transformationDescription: str | None
    transformationType: str | None
    inputFields: list[ColumnInputField]


class ColumnLineageNode(BaseModel):
    id: str
    type: Literal["DATASET_FIELD"]
    data: ColumnNodeData
    inEdges: list[Edge]
    outEdges: list[Edge]


class ColumnLineageGraph(BaseModel):
    graph: list[ColumnLineageNode]


class Events(BaseModel):
    events: list[dict[str, Any]]
    totalCount: int


class SearchResult(BaseModel):
    type: Literal["DATASET", "JOB"]
    name: str
    updatedAt: datetime
    namespace: str
    nodeId: str


class SearchResultList(BaseModel):
    totalCount: int
    results: list[SearchResult]
