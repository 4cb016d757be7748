"""Response envelope shared by every ML/governance question: ``{"rows", "graph", "truncated"}``."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

RowT = TypeVar("RowT", bound=BaseModel)


class _FromAttributes(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class GraphNode(_FromAttributes):
    """A node: ``dataset`` (possibly at a ``version``), ``job``, ``run`` or ``datasetField``."""

    id: str = Field(description="Node id: dataset:<ns>:<name>[#version], job:…, run:<uuid>, …")
    type: Literal["dataset", "job", "run", "datasetField"]
    namespace: str
    name: str
    kind: str = Field(description="dataset, feature_group, model, endpoint, job or run")
    version: str | None = None
    field: str | None = None


class GraphEdge(_FromAttributes):
    """Data flows from ``origin`` to ``destination``; ``run_id`` is the run that showed the edge."""

    origin: str
    destination: str
    run_id: str | None = None
    inferred: bool = Field(
        False, description="not declared by a producer: inferred from orchestration"
    )
    evidence: str | None = Field(None, description="what an inferred edge was inferred from")


class Graph(_FromAttributes):
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class QueryResult(_FromAttributes, Generic[RowT]):
    """Rows answering the question, the subgraph they come from, and whether the node cap hit."""

    rows: list[RowT]
    graph: Graph
    truncated: bool = Field(description="True when the node cap stopped the walk early.")


class PagedQueryResult(QueryResult[RowT], Generic[RowT]):
    """One page of an answer's rows (``limit``/``offset``); the graph covers that page."""

    total_count: int = Field(description="Rows in the whole answer, all pages together.")
