"""Label traversal nodes (ids, names, kinds, versions) and turn walks into the answer ``graph``.

``Labels`` loads everything the nodes of an answer need in a fixed number of batch queries; its
``node_id`` gives the Marquez-style id of each node: ``dataset:<ns>:<name>``, ``job:<ns>:<name>``,
``dataset:<ns>:<name>#<version>`` for a dataset version, ``run:<uuid>``, and
``datasetField:<ns>:<dataset>:<field>``.

The answer types themselves (``Answer``, ``GraphView``...) live in ``schemas.lineage``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection

from mllineage.collector.queries import details
from mllineage.collector.queries.graph.walk import Edge, Node, Walk, dataset, version
from mllineage.collector.schemas.lineage import (
    EdgeView,
    GraphView,
    NodeView,
)
from mllineage.schemas.node_ids import (
    dataset_node_id,
    field_node_id,
    job_node_id,
    run_node_id,
)

RowT = TypeVar("RowT")
T = TypeVar("T")


DEFAULT_PAGE_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Rows ``offset`` to ``offset + limit`` of an answer's ordered rows."""

    limit: int = DEFAULT_PAGE_LIMIT
    offset: int = 0

    def of(self, items: list[T]) -> list[T]:
        return items[self.offset : self.offset + self.limit]


FIRST_PAGE = PageRequest()


class Labels:
    """Names, kinds and versions of a set of traversal nodes, loaded in batches."""

    def __init__(self, conn: Connection, nodes: Iterable[Node], *, owners: bool = False) -> None:
        """Load the labels of ``nodes``; ``owners`` also loads dataset and job owners."""
        self._owners = owners
        self._views: dict[Node, NodeView] = {}
        self._paths: dict[int, dict[Node, list[str]]] = {}
        self.versions: dict[int, details.VersionInfo] = {}
        self.runs: dict[str, details.RunInfo] = {}
        self.datasets: dict[int, details.DatasetLabel] = {}
        self.jobs: dict[int, details.JobLabel] = {}
        self.add(conn, nodes)

    def add(self, conn: Connection, nodes: Iterable[Node]) -> None:
        """Load the labels of those ``nodes`` not loaded yet (the same few statements)."""
        nodes = set(nodes)
        owners = self._owners
        versions, version_datasets = details.version_labels(
            conn,
            (int(n.id) for n in nodes if n.type == "version" and int(n.id) not in self.versions),
            owners=owners,
        )
        runs, run_jobs = details.run_labels(
            conn,
            (str(n.id) for n in nodes if n.type == "run" and str(n.id) not in self.runs),
            owners=owners,
        )
        self.versions.update(versions)
        self.datasets.update(version_datasets)
        self.runs.update(runs)
        self.jobs.update(run_jobs)
        dataset_ids = {int(n.id) for n in nodes if n.type in ("dataset", "field")}
        self.datasets.update(
            details.dataset_labels(conn, dataset_ids - self.datasets.keys(), owners=owners)
        )
        job_ids = {int(n.id) for n in nodes if n.type == "job"}
        self.jobs.update(details.job_labels(conn, job_ids - self.jobs.keys(), owners=owners))

    def dataset_of(self, node: Node) -> details.DatasetLabel | None:
        """The dataset behind a dataset, version or field node."""
        if node.type == "version":
            found = self.versions.get(int(node.id))
            return self.datasets.get(found.dataset_id) if found else None
        if node.type in ("dataset", "field"):
            return self.datasets.get(int(node.id))
        return None

    def job_of(self, node: Node) -> details.JobLabel | None:
        """The job behind a job or run node."""
        if node.type == "run":
            found = self.runs.get(str(node.id))
            return self.jobs.get(found.job_id) if found else None
        if node.type == "job":
            return self.jobs.get(int(node.id))
        return None

    def version_of(self, node: Node) -> str | None:
        found = self.versions.get(int(node.id)) if node.type == "version" else None
        return found.version if found else None

    def kind(self, node: Node) -> str:
        """Dataset kind (dataset, feature_group, model, endpoint), else job or run."""
        if node.type in ("job", "run"):
            return node.type
        found = self.dataset_of(node)
        return found.kind if found else "dataset"

    def view(self, node: Node) -> NodeView:
        found = self._views.get(node)
        if found is None:
            found = self._views[node] = self._view(node)
        return found

    def _view(self, node: Node) -> NodeView:
        if node.type in ("job", "run"):
            job = self.job_of(node)
            ns, name = (job.namespace, job.name) if job else ("", str(node.id))
            if node.type == "run":
                return NodeView(run_node_id(str(node.id)), "run", ns, name, "run")
            return NodeView(job_node_id(ns, name), "job", ns, name, "job")
        found = self.dataset_of(node)
        ns, name = (found.namespace, found.name) if found else ("", str(node.id))
        kind = found.kind if found else "dataset"
        if node.type == "field":
            return NodeView(
                field_node_id(ns, name, node.field),
                "datasetField",
                ns,
                name,
                kind,
                None,
                node.field,
            )
        version = self.version_of(node)
        return NodeView(dataset_node_id(ns, name, version), "dataset", ns, name, kind, version)

    def node_id(self, node: Node) -> str:
        return self.view(node).id

    def walk_path(self, walked: Walk, node: Node) -> list[str]:
        """``walked.path(node)`` as node ids, built on cached prefixes (shared by many rows)."""
        cache = self._paths.setdefault(id(walked), {})
        chain: list[Node] = []
        current: Node | None = node
        while current is not None and current not in cache:
            chain.append(current)
            current = walked.via.get(current)
        known = cache[current] if current is not None else []
        for step in reversed(chain):
            own = self.node_id(step)
            known = [own, *known] if walked.direction == "upstream" else [*known, own]
            cache[step] = known
        return cache[node]

    def path(self, nodes: list[Node]) -> list[str]:
        return [self.node_id(n) for n in nodes]

    def edge(self, edge: Edge) -> EdgeView:
        return EdgeView(self.node_id(edge.origin), self.node_id(edge.destination), edge.run)


def graph_of(labels: Labels, nodes: Iterable[Node], edges: Iterable[Edge]) -> GraphView:
    """The graph of ``nodes`` and the ``edges`` between them, in a stable order."""
    kept = set(nodes)
    view = labels.view
    views = [view(n) for n in kept]
    views.sort(key=lambda v: (v.type, v.id))
    edge_views = [
        EdgeView(view(e.origin).id, view(e.destination).id, e.run)
        for e in set(edges)
        if e.origin in kept and e.destination in kept
    ]
    edge_views.sort(key=lambda e: (e.origin, e.destination, e.run_id or ""))
    return GraphView(views, edge_views)


def walks_graph(labels: Labels, walks: Iterable[Walk]) -> GraphView:
    """The union of the walks' visited nodes and edges."""
    nodes: set[Node] = set()
    edges: set[Edge] = set()
    for walked in walks:
        nodes.update(walked.depth)
        edges.update(walked.edges)
    return graph_of(labels, nodes, edges)


def of_kinds(
    conn: Connection, ids: Mapping[str, set[Any]], kinds: frozenset[str], labels: Labels
) -> set[Node]:
    """The nodes, given as ids by node type, whose kind (dataset kind, ``job`` or ``run``) is one
    of ``kinds``, decided in at most two statements; the kept datasets' labels come with them
    (into ``labels``)."""
    found: set[Node] = set()
    for node_type in ("job", "run"):
        if node_type in kinds:
            found.update(Node(node_type, id_) for id_ in ids.get(node_type, ()))
    datasets = details.datasets_of_kinds(conn, ids.get("dataset", ()), kinds)
    labels.datasets.update(datasets)
    found.update(map(dataset, datasets))
    for id_ in details.versions_of_kinds(conn, ids.get("version", ()), kinds):
        found.add(version(id_))
    return found
