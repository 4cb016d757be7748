"""Row models of the ML questions (``/api/v1/ml/...``): stable snake_case columns.

``path`` is always evidence: node ids in data-flow order, from the upstream end to the downstream
end of the answer (source ... node for upstream questions, node ... consumer for downstream ones).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Row(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LineageRow(_Row):
    node_id: str
    type: str = Field(description="dataset, job or run")
    namespace: str
    name: str
    kind: str
    version: str | None
    direction: str = Field(description="upstream or downstream of the start node")
    depth: int = Field(description="hops from the start node (dataset -> job -> dataset = 2)")
    run_id: str | None = Field(description="for jobs: the run whose edges were walked")
    path: list[str]

    inferred: bool = Field(
        False, description="the path takes an edge inferred from orchestration (see the graph)"
    )


class SourceRow(_Row):
    node_id: str
    namespace: str
    name: str
    kind: str
    version: str | None
    depth: int
    path: list[str]
    until: datetime | None = Field(
        None, description="a version row: when the next version replaced it (None: still newest)"
    )

    inferred: bool = Field(
        False, description="the path takes an edge inferred from orchestration (see the graph)"
    )


class FeatureGroupRow(_Row):
    node_id: str
    namespace: str
    name: str
    feature_group: str
    feature_store: str | None
    features: list[str]
    owners: list[str]
    version: str | None
    direction: str
    depth: int
    path: list[str]
    until: datetime | None = Field(
        None, description="a version row: when the next version replaced it (None: still newest)"
    )

    inferred: bool = Field(
        False, description="the path takes an edge inferred from orchestration (see the graph)"
    )


class EndpointRef(_Row):
    node_id: str
    name: str
    model_version: str | None = Field(description="the model version the endpoint serves")
    status: str | None
    until: datetime | None = Field(
        None, description="a version row: when the next version replaced it (None: still newest)"
    )


class ModelRow(_Row):
    node_id: str
    namespace: str
    name: str
    model_name: str
    current_version: str | None = Field(description="the version on the walked edge (or newest)")
    versions: list[str] = Field(description="all known versions, newest first")
    run_id: str | None = Field(description="the run that produced current_version")
    endpoints: list[EndpointRef]
    depth: int
    path: list[str]
    until: datetime | None = Field(
        None, description="a version row: when the next version replaced it (None: still newest)"
    )

    inferred: bool = Field(
        False, description="the path takes an edge inferred from orchestration (see the graph)"
    )


class ChainRow(_Row):
    node_id: str
    type: str = Field(description="dataset (a dataset version) or run")
    namespace: str
    name: str
    kind: str
    version: str | None
    run_id: str | None = Field(description="the run itself, or the run that produced the version")
    job_node_id: str | None
    run_state: str | None
    direction: str = Field(description="self, upstream or downstream")
    depth: int
    path: list[str]


class PathQuality(_Row):
    node_id: str
    status: str = Field(description="passed, warning or failed")


class ImpactRow(_Row):
    node_id: str
    type: str
    namespace: str
    name: str
    kind: str
    version: str | None
    depth: int
    owners: list[str]
    last_run_id: str | None
    last_run_state: str | None
    last_run_at: datetime | None
    path: list[str]
    quality: list[PathQuality] = Field(
        description="latest quality status of each checked dataset on the path, in path order"
    )
    until: datetime | None = Field(
        None, description="a version row: when the next version replaced it (None: still newest)"
    )

    inferred: bool = Field(
        False, description="the path takes an edge inferred from orchestration (see the graph)"
    )


class TaggedRow(_Row):
    node_id: str
    namespace: str
    name: str
    kind: str
    tag_key: str
    tag_values: list[str]
    tagged_node_id: str = Field(description="the tagged dataset upstream")
    tagged_fields: list[str] = Field(description="tagged columns ('' = the dataset itself)")
    depth: int
    path: list[str]

    inferred: bool = Field(
        False, description="the path takes an edge inferred from orchestration (see the graph)"
    )


class AssertionResult(_Row):
    assertion: str
    status: str = Field(description="passed, failed, or warning (failed with severity warn)")
    column: str | None = Field(description="the checked column (None: the whole dataset)")
    severity: str | None
    name: str | None
    expected: str | None
    actual: str | None


class QualityRow(_Row):
    node_id: str
    namespace: str
    name: str
    kind: str
    checked_node_id: str = Field(description="the dataset upstream whose latest checks fail")
    status: str = Field(description="its latest checks' status: failed or warning")
    failing_assertions: list[AssertionResult]
    checked_at: datetime = Field(description="event time of the latest checks")
    checked_by_run_id: str | None = Field(description="the run that reported them, when known")
    placement: str = Field(description="where the producer put them: dataset, input, output, run")
    depth: int
    path: list[str]

    inferred: bool = Field(
        False, description="the path takes an edge inferred from orchestration (see the graph)"
    )


class VersionRef(_Row):
    node_id: str
    namespace: str
    name: str
    kind: str
    version: str | None
    created_at: datetime | None
    producing_run_id: str | None


class AuditEvent(_Row):
    event_type: str | None
    event_time: datetime
    producer: str
    payload: dict[str, Any]


class AuditRow(_Row):
    node_id: str
    namespace: str
    name: str
    kind: str
    version: str
    created_at: datetime
    run_id: str | None
    run_state: str | None
    started_at: datetime | None
    ended_at: datetime | None
    job_node_id: str | None
    parent_run_id: str | None
    code_location: dict[str, Any] | None
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    owners: list[str]
    inputs: list[VersionRef]
    outputs: list[VersionRef]
    events: list[AuditEvent]


class FeatureLineageRow(_Row):
    role: str = Field(description="feature, source, upstream, downstream or consumer")
    node_id: str
    namespace: str
    dataset: str
    field: str | None
    kind: str
    depth: int
    transformations: list[dict[str, Any]]
    evidence: str | None = Field(description="column_lineage or model_features")
    path: list[str]
