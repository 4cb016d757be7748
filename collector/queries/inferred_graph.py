"""The graphs with the edges inferred from orchestration (``edges=all``, the default).

Each walks its declared edges plus the inferred edges (``inferred_io``: an Airflow task that
declared no inputs reads what its upstream tasks wrote; a run nested under a task inherits the
task's I/O) of the runs it takes edges from, and records every inferred hop it hands out
(``InferringGraph``), so answers can mark those edges and say what they rest on (``mark``):

- ``InferredCurrentGraph``: each job's current declared edges (``job_edges``) and the inferred
  edges of its current run;
- ``InferredAsOfGraph``: as of ``t``, the declared and inferred edges of the run each job had as
  current at ``t`` (``inferred_history.touching_as_of``);
- ``InferredVersionGraph``: the version-pinned graph plus every run's inferred edges, the dataset
  side pinned to the version it stands for (``inferred_history``).

``edges=declared`` walks the declared graphs alone (``CurrentGraph``, ``AsOfGraph``,
``VersionGraph``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection

from mllineage.collector.queries import inferred, inferred_history
from mllineage.collector.queries.graph.as_of import STATIC, AsOfGraph
from mllineage.collector.queries.graph.current import CurrentGraph, PlainCurrentGraph
from mllineage.collector.queries.graph.lookups import symlinks_exist
from mllineage.collector.queries.graph.versions import VersionGraph
from mllineage.collector.queries.graph.walk import (
    Adjacency,
    Direction,
    Graph,
    Hop,
    Node,
    dataset,
    job,
    run,
)
from mllineage.collector.queries.graph_view import Labels
from mllineage.collector.queries.inferred import InferredEdge
from mllineage.collector.schemas.lineage import GraphView


def inferred_current_graph(conn: Connection) -> CurrentGraph:
    """The current graph with inferred edges, keyed by integers when there is no symlink."""
    if symlinks_exist(conn):
        return InferredCurrentGraph(symlinks=True)
    return InferredPlainCurrentGraph()


def inferred_as_of_graph(conn: Connection, as_of: datetime) -> InferredAsOfGraph:
    """The graph as it stood at ``as_of``, with the inferred edges of the runs current then."""
    return InferredAsOfGraph(as_of, symlinks=symlinks_exist(conn))


class InferringGraph:
    """What a graph with inferred edges adds to its declared one: ``inferred`` maps each inferred
    hop handed out, in data-flow orientation (origin, destination), to the edges behind it, so
    that ``mark`` can label those edges and say what they rest on. Mixed into the current, as-of
    and version graphs, which choose the runs whose inferred edges count."""

    inferred: dict[tuple[Node, Node], list[InferredEdge]]
    _any: bool | None = None

    def _any_inferred(self, conn: Connection) -> bool:
        """Whether the database holds any inferred edge, asked once per graph (one index probe):
        most hold none, and then a walk costs what the declared graph's costs."""
        if self._any is None:
            self._any = inferred.exist(conn)
        return self._any

    def _hop(
        self, origin: Node, target: Node, edge: InferredEdge, downstream: bool
    ) -> tuple[Node, Node, InferredEdge]:
        """The hop from frontier node ``origin`` to ``target`` over ``edge``, recorded."""
        flow = (origin, target) if downstream else (target, origin)
        known = self.inferred.setdefault(flow, [])
        if edge not in known:
            known.append(edge)
        return origin, target, edge

    def _inferred(self, origin: Node, target: Node, edge: InferredEdge, downstream: bool) -> Hop:
        """``_hop``, as the walk's ``Hop`` (the edge's run)."""
        self._hop(origin, target, edge, downstream)
        return origin, target, edge.run_uuid


class InferredCurrentGraph(InferringGraph, CurrentGraph):
    """``CurrentGraph`` plus the inferred edges of each job's current run."""

    def __init__(self, *, symlinks: bool) -> None:
        super().__init__(symlinks=symlinks)
        self.inferred = {}

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        hops = super().expand(conn, frontier, direction)
        datasets = self.dataset_ids(frontier)
        jobs = {int(n.id): n for n in frontier if n.type == "job"}
        for origin, target, edge in self._inferred_hops(conn, datasets, jobs, direction):
            hops.append((origin, target, edge.run_uuid))
        return hops

    def neighbours(
        self, conn: Connection, frontier: list[Hashable], direction: Direction
    ) -> Adjacency:
        found = super().neighbours(conn, frontier, direction)
        if not isinstance(self, PlainCurrentGraph):
            return found  # the generic path went through ``expand``
        nodes = [self.node_of(key) for key in frontier]
        datasets = {int(n.id): n for n in nodes if n.type == "dataset"}
        jobs = {int(n.id): n for n in nodes if n.type == "job"}
        extra: dict[Hashable, list[Hashable]] = {}
        for origin, target, _ in self._inferred_hops(conn, datasets, jobs, direction):
            extra.setdefault(self.key_of(origin), []).append(self.key_of(target))
        if not extra:
            return found
        merged = {key: list(targets) for key, targets in found.items()}
        for key, targets in extra.items():
            merged[key] = list(dict.fromkeys([*merged.get(key, ()), *targets]))
        return merged

    def _inferred_hops(
        self,
        conn: Connection,
        datasets: dict[int, Node],
        jobs: dict[int, Node],
        direction: Direction,
    ) -> Iterable[tuple[Node, Node, InferredEdge]]:
        """(frontier node, neighbour, edge) over the current inferred edges."""
        if not self._any_inferred(conn):
            return
        downstream = direction == "downstream"
        if datasets:
            side = "in" if downstream else "out"
            for edge in inferred.current_of_datasets(conn, datasets):
                if edge.direction == side:
                    yield self._hop(datasets[edge.dataset_id], job(edge.job_id), edge, downstream)
        if jobs:
            side = "out" if downstream else "in"
            for edge in inferred.current_of_jobs(conn, jobs):
                if edge.direction == side:
                    yield self._hop(jobs[edge.job_id], dataset(edge.dataset_id), edge, downstream)


class InferredPlainCurrentGraph(InferredCurrentGraph, PlainCurrentGraph):
    """``PlainCurrentGraph`` (integer keys) plus the current inferred edges."""

    def __init__(self) -> None:
        PlainCurrentGraph.__init__(self)
        self.inferred = {}


class InferredAsOfGraph(InferringGraph, AsOfGraph):
    """``AsOfGraph`` plus the inferred edges of the run each job had as current at ``as_of`` (the
    run its declared edges come from; a job whose lineage then was static has none)."""

    def __init__(self, as_of: datetime, *, symlinks: bool) -> None:
        super().__init__(as_of, symlinks=symlinks)
        self.inferred = {}

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        hops = super().expand(conn, frontier, direction)
        if not self._any_inferred(conn):
            return hops
        downstream = direction == "downstream"
        datasets = self.dataset_ids(frontier)
        if datasets:
            side = "in" if downstream else "out"
            found = inferred_history.touching_as_of(conn, list(datasets), side, self.as_of)
            chosen = self.chosen_runs(conn, [edge.job_id for edge in found])
            for edge in found:
                if chosen[edge.job_id] == edge.run_uuid:
                    origin = datasets[edge.dataset_id]
                    hops.append(self._inferred(origin, job(edge.job_id), edge, downstream))
        jobs = {int(n.id): n for n in frontier if n.type == "job"}
        if jobs:
            side = "out" if downstream else "in"
            runs = [r for r in self.chosen_runs(conn, jobs).values() if r and r != STATIC]
            for edge in inferred.of_runs(conn, runs):
                if edge.direction == side:
                    target = dataset(edge.dataset_id)
                    hops.append(self._inferred(jobs[edge.job_id], target, edge, downstream))
        return hops


class InferredVersionGraph(InferringGraph, VersionGraph):
    """``VersionGraph`` plus the inferred edges of every run it reaches, each dataset side pinned
    to the version it stands for (``inferred_history``): upstream, a version leads to the runs
    that wrote it by inference and a run to the versions it read by inference; downstream, a
    version leads to the runs that read it by inference and a run to the versions it wrote so.
    Upstream, the inferred reads of the runs producing a level's versions are fetched with that
    level (as ``VersionGraph`` does with the declared reads)."""

    def __init__(self) -> None:
        super().__init__()
        self.inferred = {}
        self._inferred_reads: dict[str, list[inferred_history.Resolved]] = {}

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        hops = super().expand(conn, frontier, direction)
        if not self._any_inferred(conn):
            return hops
        downstream = direction == "downstream"
        versions = [int(n.id) for n in frontier if n.type == "version"]
        plain = [int(n.id) for n in frontier if n.type == "dataset"]
        at_datasets: list[inferred_history.Resolved] = []
        if downstream:
            at_datasets = inferred_history.of_versions(conn, versions, plain, "in")
        else:
            if versions:
                at_datasets, reads = inferred_history.upstream_of_versions(conn, versions)
                self._inferred_reads.update(reads)
            if plain:
                at_datasets += inferred_history.of_versions(conn, [], plain, "out")
        for edge, node in at_datasets:
            hops.append(self._inferred(node, run(edge.run_uuid), edge, downstream))
        runs = [str(n.id) for n in frontier if n.type == "run"]
        for edge, target in self._of_runs(conn, runs, "out" if downstream else "in"):
            hops.append(self._inferred(run(edge.run_uuid), target, edge, downstream))
        return hops

    def _of_runs(
        self, conn: Connection, runs: list[str], side: str
    ) -> list[inferred_history.Resolved]:
        """``inferred_history.of_runs``; upstream, from the reads fetched with the producing
        runs for the runs whose declared reads the level before fetched (``VersionGraph._reads``)."""
        if side == "in":
            known = [r for r in runs if r in self._reads]
            runs = [r for r in runs if r not in self._reads]
            cached = [found for r in known for found in self._inferred_reads.get(r, ())]
            return [*cached, *inferred_history.of_runs(conn, runs, side)]
        return inferred_history.of_runs(conn, runs, side)


def marked(
    conn: Connection, view: GraphView, labels: Labels, graph: Graph, rows: Sequence[Any]
) -> GraphView:
    """``mark`` the answer's graph, then set each row's ``inferred`` (its ``path`` takes an
    inferred edge); returns ``view``."""
    mark(conn, view, labels, graph)
    steps = inferred_steps(view)
    if steps:
        for row in rows:
            row.inferred = passes_inferred(row.path, steps)
    return view


def mark(conn: Connection, view: GraphView, labels: Labels, graph: Graph) -> None:
    """Mark the edges of an answer's ``view`` that ``graph`` inferred, with their evidence."""
    if not isinstance(graph, InferringGraph) or not graph.inferred:
        return
    by_ids = {
        (labels.node_id(origin), labels.node_id(target)): edges
        for (origin, target), edges in graph.inferred.items()
        if _labelled(labels, origin) and _labelled(labels, target)
    }
    wanted = [(e.origin, e.destination) for e in view.edges if (e.origin, e.destination) in by_ids]
    said = inferred.evidence(conn, [edge for key in wanted for edge in by_ids[key]])
    for edge_view in view.edges:
        behind = by_ids.get((edge_view.origin, edge_view.destination))
        if behind:
            edge_view.inferred = True
            edge_view.evidence = "; ".join(sorted({said[edge] for edge in behind}))


def _labelled(labels: Labels, node: Node) -> bool:
    """Whether the answer labelled ``node`` (a node it does not show cannot carry a mark)."""
    if node.type == "job":
        return int(node.id) in labels.jobs
    if node.type == "run":
        return str(node.id) in labels.runs
    if node.type == "version":
        return int(node.id) in labels.versions
    return node.type == "dataset" and int(node.id) in labels.datasets


def inferred_steps(view: GraphView) -> set[tuple[str, str]]:
    """The (origin, destination) node ids of the inferred edges of a marked ``view``."""
    return {(e.origin, e.destination) for e in view.edges if e.inferred}


def passes_inferred(path: Sequence[str], steps: set[tuple[str, str]]) -> bool:
    """Whether a path (node ids in data-flow order) takes an inferred edge."""
    return any(pair in steps for pair in pairwise(path))
