"""The answer every ML/governance question gives: ``{"rows", "graph", "truncated"}`` (and
``total_count`` for paged answers), one type each, declared by the routes as their response model
and serialised from the very objects the queries build (see ``schemas.ml``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import Field

RowT = TypeVar("RowT")


@dataclass
class NodeView:
    """A node: ``dataset`` (possibly at a ``version``), ``job``, ``run`` or ``datasetField``."""

    id: Annotated[
        str, Field(description="Node id: dataset:<ns>:<name>[#version], job:…, run:<uuid>, …")
    ]
    type: Literal["dataset", "job", "run", "datasetField"]
    namespace: str
    name: str
    kind: Annotated[str, Field(description="dataset, feature_group, model, endpoint, job or run")]
    version: str | None = None
    field: str | None = None


@dataclass
class EdgeView:
    """Data flows from ``origin`` to ``destination``; ``run_id`` is the run that showed the edge;
    ``inferred`` edges no producer declared: they were inferred from orchestration."""

    origin: str
    destination: str
    run_id: str | None = None
    inferred: Annotated[
        bool, Field(description="not declared by a producer: inferred from orchestration")
    ] = False
    evidence: Annotated[
        str | None, Field(description="what an inferred edge was inferred from")
    ] = None


@dataclass(frozen=True)
class GraphView:
    nodes: list[NodeView]
    edges: list[EdgeView]


@dataclass(frozen=True)
class Answer(Generic[RowT]):
    """Rows answering the question, the subgraph they come from, and whether the node cap hit."""

    rows: list[RowT]
    graph: GraphView
    truncated: Annotated[bool, Field(description="True when the node cap stopped the walk early.")]


@dataclass(frozen=True)
class PagedAnswer(Answer[RowT]):
    """One page of an answer's rows (``limit``/``offset``); the graph covers that page."""

    total_count: Annotated[
        int, Field(description="Rows in the whole answer, all pages together.")
    ] = 0
