"""What the ML questions share: options, choosing the graph for a start node, running the walks.

The graph follows from the question: a start that names a version (``dataset:ns:model#3``) or a
run (``run:<uuid>``), or ``scope=versions``, is pinned to versions (``version_graph``); otherwise
``asOf`` selects the graph as it stood then (``AsOfGraph``), and no ``asOf`` the current graph
(``graph_for``). With ``edges=all`` (the default) each of them also walks the edges inferred from
orchestration (``inferred_graph``); ``edges=declared`` only what producers declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection

from mllineage.collector.errors import BadRequest
from mllineage.collector.queries import details
from mllineage.collector.queries.graph.as_of import AsOfGraph, dataset_graph
from mllineage.collector.queries.graph.versions import VersionGraph
from mllineage.collector.queries.graph.walk import (
    DEFAULT_MAX_NODES,
    Direction,
    Graph,
    Node,
    Walk,
    dataset,
    job,
    run,
    version,
    walk,
)
from mllineage.collector.queries.graph_view import Labels
from mllineage.collector.queries.inferred_graph import (
    InferredVersionGraph,
    inferred_as_of_graph,
    inferred_current_graph,
)
from mllineage.collector.queries.resolve import DatasetRef, FieldRef, JobRef, resolve_node

Directions = Literal["upstream", "downstream", "both"]
#: ``current``: the graph as it stands (each job's latest completed run), or as of ``asOf``;
#: ``versions``: the version-pinned history from every version of the start (every model version
#: ever built, every endpoint deployment that ever served one). ``graph`` is ``current``'s old
#: name (``governance/tagged``).
Scope = Literal["current", "graph", "versions"]
#: ``all``: declared edges plus those inferred from orchestration (marked in answers);
#: ``declared``: only what producers declared.
Edges = Literal["declared", "all"]
KINDS = ("dataset", "entity", "feature_group", "model", "endpoint", "job")


@dataclass(frozen=True, slots=True)
class Options:
    """Common traversal parameters: hop ``depth``, ``as_of`` time, node cap, ``kinds`` filter,
    ``scope`` (today's graph or every version), ``edges`` (declared only, or also inferred)."""

    depth: int = 20
    as_of: datetime | None = None
    max_nodes: int = DEFAULT_MAX_NODES
    kinds: frozenset[str] | None = None
    scope: Scope = "current"
    edges: Edges = "all"

    def keeps(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds


@dataclass(frozen=True, slots=True)
class Start:
    """Where the walks begin: ``node``, plus ``others`` that stand for it (with
    ``scope=versions``, a dataset's older versions; ``node`` is its newest)."""

    node: Node
    graph: Graph
    others: tuple[Node, ...] = ()

    @property
    def pinned(self) -> bool:
        return isinstance(self.graph, VersionGraph)


def parse_kinds(text: str | None) -> frozenset[str] | None:
    """``"model,endpoint"`` -> kinds; unknown kinds are a ``BadRequest``."""
    if not text:
        return None
    kinds = frozenset(k.strip() for k in text.split(",") if k.strip())
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise BadRequest(f"unknown kinds {unknown}; known: {', '.join(KINDS)}")
    return kinds


def graph_for(conn: Connection, options: Options) -> Graph:
    """The as-of graph at ``asOf``, else the current graph (with the inferred edges unless
    ``edges=declared``)."""
    if options.edges == "declared":
        return dataset_graph(conn, options.as_of)
    if options.as_of is None:
        return inferred_current_graph(conn)
    return inferred_as_of_graph(conn, options.as_of)


def version_graph(conn: Connection, options: Options) -> VersionGraph:
    """The version-pinned graph (with the inferred edges unless ``edges=declared``)."""
    return InferredVersionGraph() if options.edges == "all" else VersionGraph()


def start_of(conn: Connection, node_id: str, options: Options) -> Start:
    """The start node and graph for ``node_id`` (a field starts at its dataset). With
    ``scope=versions`` a dataset starts from every version it had (by ``asOf`` if given) on the
    version graph; a dataset without versions is a node of its own there."""
    ref = resolve_node(conn, node_id)
    if isinstance(ref, FieldRef):
        ref = ref.dataset
    if isinstance(ref, DatasetRef):
        if ref.version_id is not None:
            return Start(version(ref.version_id), version_graph(conn, options))
        if options.scope == "versions":
            known = details.dataset_versions(conn, [ref.id], as_of=options.as_of).get(ref.id, [])
            if not known:
                return Start(dataset(ref.id), version_graph(conn, options))
            nodes = [version(v.id) for v in known]
            return Start(nodes[0], version_graph(conn, options), tuple(nodes[1:]))
        return Start(dataset(ref.id), graph_for(conn, options))
    if isinstance(ref, JobRef):
        return Start(job(ref.id), graph_for(conn, options))
    return Start(run(ref.uuid), version_graph(conn, options))


def walks(
    conn: Connection,
    start: Start,
    direction: Directions,
    options: Options,
    *,
    probe_ends: bool = False,
) -> list[Walk]:
    """One walk per direction (two for ``both``), sharing the start's graph."""
    chosen: list[Direction] = ["upstream", "downstream"] if direction == "both" else [direction]
    return [
        walk(
            start.graph,
            conn,
            [start.node, *start.others],
            d,
            depth=options.depth,
            max_nodes=options.max_nodes,
            probe_ends=probe_ends,
        )
        for d in chosen
    ]


def reached(walked: list[Walk]) -> list[tuple[Node, Walk]]:
    """Each visited non-start node with the walk that reached it first (upstream before down)."""
    seen: set[Node] = set()
    found = []
    for one in walked:
        for node in one.reached():
            if node not in seen:
                seen.add(node)
                found.append((node, one))
    return found


def all_nodes(walked: list[Walk]) -> set[Node]:
    return {node for one in walked for node in one.depth}


def job_runs(conn: Connection, start: Start, labels: Labels) -> dict[int, str | None]:
    """The run whose edges each labelled job contributes to this graph (current or as-of)."""
    job_ids = list(labels.jobs)
    if isinstance(start.graph, AsOfGraph):
        chosen = start.graph.chosen_runs(conn, job_ids)
        return {j: r if r != "static" else None for j, r in chosen.items()}
    return {j: info.current_run_uuid for j, info in labels.jobs.items()}


def facet_field(facets: details.Facets | None, key: str, name: str) -> Any:
    facet = (facets or {}).get(key)
    return facet.get(name) if isinstance(facet, dict) else None
