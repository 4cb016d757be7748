"""The current graph: ``job_edges``, each job's current edges (its latest completed run's, else its
latest run's, else its static JobEvent lineage). ``current_graph`` builds it: ``CurrentGraph``
(symlinked datasets merged, node keys) or, without symlinks, ``PlainCurrentGraph`` (integer keys)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select

from mllineage.collector.db.tables import job_edges_t
from mllineage.collector.queries.dialect import read_dialect
from mllineage.collector.queries.graph.datasets import DatasetGraph
from mllineage.collector.queries.graph.lookups import symlinks_exist
from mllineage.collector.queries.graph.walk import Adjacency, Direction, Hop, Node, dataset, job
from mllineage.collector.queries.membership import fetch_in, member_of

#: A propagation frontier of more datasets (or jobs) than this reads all their edges at once.
WHOLE_SIDE_FRONTIER = 2_000


def current_graph(conn: Connection) -> CurrentGraph:
    """The current graph, keyed by integers when the database holds no symlink (one probe)."""
    return CurrentGraph(symlinks=True) if symlinks_exist(conn) else PlainCurrentGraph()


class CurrentGraph(DatasetGraph):
    """Each job's current edges (``job_edges``), read the same way in both directions."""

    symmetric = True

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        downstream = direction == "downstream"
        hops: list[Hop] = []
        datasets = self.dataset_ids(frontier)
        if datasets:
            rows = fetch_in(
                conn,
                job_edges_t.c.dataset_id,
                datasets,
                lambda cond: select(job_edges_t.c.dataset_id, job_edges_t.c.job_id).where(
                    job_edges_t.c.direction == ("in" if downstream else "out"), cond
                ),
            )
            hops.extend((datasets[ds], job(job_id), None) for ds, job_id in rows)
        jobs = [int(n.id) for n in frontier if n.type == "job"]
        if jobs:
            rows = fetch_in(
                conn,
                job_edges_t.c.job_id,
                jobs,
                lambda cond: select(job_edges_t.c.job_id, job_edges_t.c.dataset_id).where(
                    cond, job_edges_t.c.direction == ("out" if downstream else "in")
                ),
            )
            hops.extend((job(job_id), dataset(ds), None) for job_id, ds in rows)
        return hops


class PlainCurrentGraph(CurrentGraph):
    """The current graph of a database without symlinks, keyed by integers for ``propagate``:
    dataset ``2 * id``, job ``2 * id + 1``. Each level is two statements returning the edges as
    two arrays, so a propagation over the whole graph handles plain ints instead of a row and two
    nodes per edge."""

    def __init__(self) -> None:
        super().__init__(symlinks=False)
        self._adjacency: dict[tuple[int, str], Mapping[int, Sequence[int]]] = {}

    def keys(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Hashable]:
        return {node: self.key_of(node) for node in nodes}

    def node_of(self, key: Hashable) -> Node:
        assert isinstance(key, int)
        return job(key >> 1) if key & 1 else dataset(key >> 1)

    def key_of(self, node: Node) -> Hashable:
        return int(node.id) << 1 | (node.type == "job")

    def ids_by_type(self, keys: Iterable[Hashable]) -> dict[str, set[Any]]:
        keys = set(keys)  # all integers: datasets even, jobs odd
        jobs = {key for key in keys if key & 1}  # type: ignore[operator]
        return {
            "dataset": {key >> 1 for key in keys - jobs},  # type: ignore[operator]
            "job": {key >> 1 for key in jobs},  # type: ignore[operator]
        }

    def neighbours(
        self, conn: Connection, frontier: list[Hashable], direction: Direction
    ) -> Adjacency:
        downstream = direction == "downstream"
        datasets = [key for key in frontier if isinstance(key, int) and not key & 1]
        jobs = [key for key in frontier if isinstance(key, int) and key & 1]
        found = [
            self._edges_from(conn, keys, side)
            for keys, side in (
                (datasets, "in" if downstream else "out"),
                (jobs, "out" if downstream else "in"),
            )
            if keys
        ]
        if len(found) == 1:
            return found[0]
        return {key: targets for part in found for key, targets in part.items()}  # disjoint

    def _edges_from(
        self, conn: Connection, keys: list[int], side: str
    ) -> Mapping[int, Sequence[int]]:
        """Key -> neighbour keys over the ``job_edges`` on ``side`` of the datasets or jobs (all
        of one type) behind ``keys``. A frontier of more than ``WHOLE_SIDE_FRONTIER`` nodes
        reads every edge of that side once (kept for the next levels): one sequential read
        instead of an index probe per node."""
        from_jobs = keys[0] & 1
        whole = self._adjacency.get((from_jobs, side))
        if whole is not None:
            return whole
        ids = None if len(keys) > WHOLE_SIDE_FRONTIER else [key >> 1 for key in keys]
        adjacency = _edge_lists(conn, bool(from_jobs), ids, side)
        if ids is None:
            self._adjacency[(from_jobs, side)] = adjacency
        return adjacency


def _edge_lists(
    conn: Connection, from_jobs: bool, ids: list[int] | None, side: str
) -> Mapping[int, Sequence[int]]:
    """Key -> neighbour keys over the ``job_edges`` on ``side``, from jobs (else datasets) with
    these ``ids`` (all of them when None). The edges come as two parallel arrays of keys computed
    by the database: one row, not one row per edge (``ReadDialect.array_agg``)."""
    edges = job_edges_t.c
    dataset_key, job_key = edges.dataset_id * 2, edges.job_id * 2 + 1
    source, target, column = (
        (job_key, dataset_key, edges.job_id)
        if from_jobs
        else (dataset_key, job_key, edges.dataset_id)
    )
    dialect = read_dialect(conn)
    query = select(dialect.array_agg(source), dialect.array_agg(target))
    query = query.where(edges.direction == side)
    if ids is not None:
        query = query.where(member_of(conn, column, ids))
    row = conn.execute(query).one()
    sources, targets = dialect.array(row[0]), dialect.array(row[1])
    singles: dict[int, Sequence[int]] = dict(zip(sources, zip(targets, strict=True), strict=True))
    if len(singles) == len(sources):  # one neighbour each (a job's outputs, usually): built in C
        return singles
    adjacency: dict[int, list[int]] = {}
    for key, neighbour in zip(sources, targets, strict=True):
        found = adjacency.get(key)
        if found is None:
            adjacency[key] = [neighbour]
        else:
            found.append(neighbour)
    return adjacency
