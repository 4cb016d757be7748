"""Row types of the ML questions (``/api/v1/ml/...``): stable snake_case columns.

One type per row: the query functions build these, the routes declare them as their response
model (pydantic reads the dataclasses and their ``Field`` descriptions for validation and
OpenAPI), and the answers are serialised from them (``api.reads.answer_response``). They are plain
dataclasses without ``__slots__``: orjson serialises them from their ``__dict__``, about five
times faster than through slots, which matters for answers of thousands of rows.

``path`` is always evidence: node ids in data-flow order, from the upstream end to the downstream
end of the answer (source ... node for upstream questions, node ... consumer for downstream ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

#: A version row's end: when the next version replaced it (None: still the newest).
Until = Annotated[
    datetime | None,
    Field(description="a version row: when the next version replaced it (None: still newest)"),
]
#: Whether the row's path takes an edge inferred from orchestration.
Inferred = Annotated[
    bool,
    Field(description="the path takes an edge inferred from orchestration (see the graph)"),
]


@dataclass
class LineageRow:
    node_id: str
    type: Annotated[str, Field(description="dataset, job or run")]
    namespace: str
    name: str
    kind: str
    version: str | None
    direction: Annotated[str, Field(description="upstream or downstream of the start node")]
    depth: Annotated[
        int, Field(description="hops from the start node (dataset -> job -> dataset = 2)")
    ]
    run_id: Annotated[str | None, Field(description="for jobs: the run whose edges were walked")]
    path: list[str]
    inferred: Inferred = False


@dataclass
class SourceRow:
    node_id: str
    namespace: str
    name: str
    kind: str
    version: str | None
    depth: int
    path: list[str]
    until: Until = None
    inferred: Inferred = False


@dataclass
class FeatureGroupRow:
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
    until: Until = None
    inferred: Inferred = False


@dataclass
class EndpointRef:
    node_id: str
    name: str
    model_version: Annotated[str | None, Field(description="the model version the endpoint serves")]
    status: str | None
    until: Until = None


@dataclass
class ModelRow:
    node_id: str
    namespace: str
    name: str
    model_name: str
    current_version: Annotated[
        str | None, Field(description="the version on the walked edge (or newest)")
    ]
    versions: Annotated[list[str], Field(description="all known versions, newest first")]
    run_id: Annotated[str | None, Field(description="the run that produced current_version")]
    endpoints: list[EndpointRef]
    depth: int
    path: list[str]
    until: Until = None
    inferred: Inferred = False


@dataclass
class ChainRow:
    node_id: str
    type: Annotated[str, Field(description="dataset (a dataset version) or run")]
    namespace: str
    name: str
    kind: str
    version: str | None
    run_id: Annotated[
        str | None, Field(description="the run itself, or the run that produced the version")
    ]
    job_node_id: str | None
    run_state: str | None
    direction: Annotated[str, Field(description="self, upstream or downstream")]
    depth: int
    path: list[str]
    inferred: Inferred = False


@dataclass
class PathQuality:
    node_id: str
    status: Annotated[str, Field(description="passed, warning or failed")]


@dataclass
class ImpactRow:
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
    quality: Annotated[
        list[PathQuality],
        Field(description="latest quality status of each checked dataset on the path, in order"),
    ]
    until: Until = None
    inferred: Inferred = False


@dataclass
class TaggedRow:
    node_id: str
    namespace: str
    name: str
    kind: str
    tag_key: str
    tag_values: list[str]
    tagged_node_id: Annotated[str, Field(description="the tagged dataset upstream")]
    tagged_fields: Annotated[
        list[str], Field(description="tagged columns ('' = the dataset itself)")
    ]
    depth: int
    path: list[str]
    evidence: Annotated[
        Literal["column", "job"],
        Field(
            description="column: the path follows the tagged column through every job's column"
            " lineage; job: some hop propagates at job level (a dataset-level tag, an output"
            " without column lineage, an inferred edge)"
        ),
    ] = "job"
    inferred: Inferred = False


@dataclass
class AssertionResult:
    assertion: str
    status: Annotated[
        str, Field(description="passed, failed, or warning (failed with severity warn)")
    ]
    column: Annotated[str | None, Field(description="the checked column (None: whole dataset)")]
    severity: str | None
    name: str | None
    expected: str | None
    actual: str | None


@dataclass
class QualityRow:
    node_id: str
    namespace: str
    name: str
    kind: str
    checked_node_id: Annotated[
        str, Field(description="the dataset upstream whose latest checks fail")
    ]
    status: Annotated[str, Field(description="its latest checks' status: failed or warning")]
    failing_assertions: list[AssertionResult]
    checked_at: Annotated[datetime, Field(description="event time of the latest checks")]
    checked_by_run_id: Annotated[
        str | None, Field(description="the run that reported them, when known")
    ]
    placement: Annotated[
        str, Field(description="where the producer put them: dataset, input, output, run")
    ]
    depth: int
    path: list[str]
    inferred: Inferred = False


@dataclass
class VersionRef:
    node_id: str
    namespace: str
    name: str
    kind: str
    version: str | None
    created_at: datetime | None
    producing_run_id: str | None


@dataclass
class AuditEvent:
    event_type: str | None
    event_time: datetime
    producer: str
    payload: dict[str, Any]


@dataclass
class AuditRow:
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


@dataclass
class FeatureLineageRow:
    role: Annotated[str, Field(description="feature, source, upstream, downstream or consumer")]
    node_id: str
    namespace: str
    dataset: str
    field: str | None
    kind: str
    depth: int
    transformations: list[dict[str, Any]]
    evidence: Annotated[str | None, Field(description="column_lineage or model_features")]
    path: list[str]
