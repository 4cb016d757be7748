"""Response models of the overview, node search and node events reads (``/api/v1/ml/...``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class KindCount(_Model):
    kind: str = Field(description="dataset, feature_group, model, endpoint or job")
    count: int


class FailedRun(_Model):
    run_id: str
    job_node_id: str
    namespace: str
    job_name: str
    state: str = Field(description="FAIL or ABORT")
    started_at: datetime | None
    ended_at: datetime | None
    error_message: str | None = Field(description="the message of the run's errorMessage facet")


class Overview(_Model):
    counts: list[KindCount] = Field(description="nodes per kind (kinds with none left out)")
    failed_runs: list[FailedRun] = Field(description="the latest failed runs, newest first")


class NodeHit(_Model):
    node_id: str
    type: str = Field(description="dataset or job")
    kind: str
    namespace: str
    name: str
    updated_at: datetime


class NodeSearch(_Model):
    rows: list[NodeHit]
    total_count: int = Field(description="matches in all pages together")


class NodeEvents(_Model):
    events: list[dict[str, Any]] = Field(description="raw OpenLineage events, newest first")
