"""Answers of the overview, node search and node events reads (``/api/v1/ml/...``).

One type per answer, as in ``schemas.ml``: the query functions build these dataclasses, the
routes declare them as their response models (pydantic reads them and their ``Field``
descriptions for OpenAPI) and serialise them with orjson.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field


@dataclass
class KindCount:
    kind: Annotated[str, Field(description="dataset, feature_group, model, endpoint or job")]
    count: int


@dataclass
class FailedRun:
    run_id: str
    job_node_id: str
    namespace: str
    job_name: str
    state: Annotated[str, Field(description="FAIL or ABORT")]
    started_at: datetime | None
    ended_at: datetime | None
    error_message: Annotated[
        str | None, Field(description="the message of the run's errorMessage facet")
    ]


@dataclass
class Overview:
    counts: Annotated[
        list[KindCount], Field(description="nodes per kind (kinds with none left out)")
    ]
    failed_runs: Annotated[
        list[FailedRun], Field(description="the latest failed runs, newest first")
    ]


@dataclass
class NodeHit:
    node_id: str
    type: Annotated[str, Field(description="dataset or job")]
    kind: str
    namespace: str
    name: str
    updated_at: datetime


@dataclass
class NodeSearch:
    rows: list[NodeHit]
    total_count: Annotated[int, Field(description="matches in all pages together")]


@dataclass
class NodeEvents:
    events: Annotated[
        list[dict[str, Any]], Field(description="raw OpenLineage events, newest first")
    ]
