"""Lineage traversal: the one directed, level-wise breadth-first walk every graph question uses.

Semantics:

- **Graph.** Bipartite: datasets and jobs (``CurrentGraph``, ``AsOfGraph``), dataset versions and
  runs (``VersionGraph``), or columns alone (``ColumnGraph``). Edges follow the data: dataset → job
  when the job reads it, job → dataset when the job writes it.
- **Direction.** ``downstream`` follows edges forward, ``upstream`` backward, never both in one walk:
  "both" is the union of an upstream and a downstream walk, so a walk never wanders into siblings
  (the other consumers of an input, the other inputs of a consumer).
- **Depth = hops.** dataset → job → dataset is two hops; a node's ``depth`` is the length of its
  shortest directed path from a start; ``depth=0`` visits the starts only.
- **Visited set.** Each node is expanded once, so cycles are harmless; ``via`` keeps one shortest
  path back to a start as evidence. Edges between visited nodes are all kept (diamonds, cycles).
- **Cap.** At most ``max_nodes`` nodes are visited; when more were reachable the walk stops adding
  nodes and ``truncated`` is True.
- **Cost.** Each level is fetched for the whole frontier at once, with one statement per level (a
  few in the as-of and version graphs) over indexed adjacency: ``job_edges`` both ways, ``run_io``,
  ``runs``, ``dataset_versions`` and ``column_lineage``. Never one query per node.

The graphs:

- ``CurrentGraph``: ``job_edges``, each job's current edges (its latest completed run's, else its
  latest run's, else its static JobEvent lineage).
- ``AsOfGraph(t)``: the graph as it stood at ``t``: per job, the ``run_io`` edges of its latest run
  COMPLETE at or before ``t`` (else of its latest run seen by ``t``; else, for jobs created by ``t``,
  their static lineage).
- ``VersionGraph``: pinned to versions. Upstream, a version leads to the run that produced it and a
  run to the exact versions it read (a read without a version means the latest version created at
  or before the run started). Downstream, a version leads to the runs that read exactly it and a run
  to the versions it wrote. A dataset without any version is a node of its own (``dataset``).
- ``ColumnGraph``: ``column_lineage``, output column ← input column (as of a time: the
  ``columnLineage`` facets of the versions current then).

In the dataset graphs, datasets linked by a ``symlinks`` identifier are one node, represented by the
dataset that declares the symlink (Spark's path and the Hive table it registers). In the version
graph, a read of a dataset that has no version by then resolves to the latest version of a dataset
it is symlinked with.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any, Literal, NamedTuple

import orjson
from sqlalchemy import (
    Connection,
    Select,
    and_,
    case,
    exists,
    func,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.sql import ColumnElement

from mllineage.collector.queries.tables import (
    column_lineage_t,
    datasets_t,
    fetch_in,
    job_edges_t,
    jobs_t,
    member_of,
    namespaces_t,
    run_io_t,
    runs_t,
    static_io_t,
    symlinks_t,
    versions_t,
)

Direction = Literal["upstream", "downstream"]
DEFAULT_MAX_NODES = 5_000
#: A propagation frontier of more datasets (or jobs) than this reads all their edges at once.
WHOLE_SIDE_FRONTIER = 2_000


class Node(NamedTuple):
    """``dataset``/``job``/``version`` (int id), ``run`` (uuid) or ``field`` (dataset id + name)."""

    type: str
    id: int | str
    field: str = ""


class Edge(NamedTuple):
    """A hop in data-flow orientation; ``run`` is the run the edge was observed in, if known."""

    origin: Node
    destination: Node
    run: str | None = None


Hop = tuple[Node, Node, str | None]  # (frontier node, neighbour, run)
# key -> neighbour keys (``Graph.neighbours``); keys are hashable
Adjacency = Mapping[Any, Sequence[Any]]


_tuple_new = tuple.__new__  # skips NamedTuple's Python-level __new__: nodes are made by the 10,000


def dataset(id_: int) -> Node:
    return _tuple_new(Node, ("dataset", id_, ""))


def job(id_: int) -> Node:
    return _tuple_new(Node, ("job", id_, ""))


def version(id_: int) -> Node:
    return _tuple_new(Node, ("version", id_, ""))


def run(uuid: str) -> Node:
    return _tuple_new(Node, ("run", uuid, ""))


def column(dataset_id: int, name: str) -> Node:
    return _tuple_new(Node, ("field", dataset_id, name))


@dataclass
class Walk:
    """The result of one directed walk (see the module docstring)."""

    direction: Direction
    starts: list[Node]
    depth: dict[Node, int] = field(default_factory=dict)
    via: dict[Node, Node] = field(default_factory=dict)
    edges: set[Edge] = field(default_factory=set)
    ends: set[Node] = field(default_factory=set)
    truncated: bool = False
    members: dict[Node, set[Node]] = field(default_factory=dict)

    def path(self, node: Node) -> list[Node]:
        """One shortest path between a start and ``node``, in data-flow order."""
        chain = [node]
        while chain[-1] in self.via:
            chain.append(self.via[chain[-1]])
        return chain if self.direction == "upstream" else chain[::-1]

    def reached(self) -> list[Node]:
        """Visited nodes other than the starts, nearest first."""
        starts = set(self.starts)
        return [n for n, _ in sorted(self.depth.items(), key=lambda i: i[1]) if n not in starts]


class Graph:
    """Adjacency of one graph flavour; ``expand`` fetches a whole frontier's neighbours.

    ``symmetric``: the upstream neighbours of a node are exactly the nodes whose downstream
    neighbours include it (both directions read the same edges)."""

    symmetric = False

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        raise NotImplementedError

    def canonical(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Node]:
        """Map nodes to the node that represents them (symlinked datasets); identity by default."""
        return {}

    # Keyed steps, for ``propagate``: a key is a compact, hashable stand-in for a representative
    # node. By default the node itself; a graph may use something cheaper (``CurrentGraph``).

    def keys(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Hashable]:
        """The key of each node's representative."""
        canon = self.canonical(conn, nodes)
        return {node: canon.get(node, node) for node in nodes}

    def node_of(self, key: Hashable) -> Node:
        """The representative node behind a key (``keys``' inverse)."""
        assert isinstance(key, Node)
        return key

    def key_of(self, node: Node) -> Hashable:
        """The key of a node that already is a representative (as ``node_of`` returns them)."""
        return node

    def ids_by_type(self, keys: Iterable[Hashable]) -> dict[str, set[Any]]:
        """The ids of the nodes behind ``keys``, by node type."""
        found: dict[str, set[Any]] = {}
        for node in map(self.node_of, keys):
            found.setdefault(node.type, set()).add(node.id)
        return found

    def neighbours(
        self, conn: Connection, frontier: list[Hashable], direction: Direction
    ) -> Adjacency:
        """Each frontier key's distinct neighbour keys in ``direction``, never the key itself
        (keys without neighbours may be missing). The mapping may hold other keys too."""
        hops = self.expand(conn, [self.node_of(key) for key in frontier], direction)
        pairs = {(hop[0], hop[1]) for hop in hops}
        keys = self.keys(conn, list({neighbour for _, neighbour in pairs}))
        found: dict[Hashable, list[Hashable]] = {}
        for origin, neighbour in pairs:
            target = keys[neighbour]
            key = self.key_of(origin)
            if target != key:
                found.setdefault(key, []).append(target)
        return {key: list(dict.fromkeys(targets)) for key, targets in found.items()}


def walk(
    graph: Graph,
    conn: Connection,
    starts: Iterable[Node],
    direction: Direction,
    *,
    depth: int,
    max_nodes: int = DEFAULT_MAX_NODES,
    probe_ends: bool = False,
) -> Walk:
    """Breadth-first walk from ``starts`` (see the module docstring for the contract).

    ``ends`` collects visited nodes that have no neighbour in ``direction`` (roots of an upstream
    walk, sinks of a downstream one). Nodes at the depth limit are only probed for that when
    ``probe_ends`` (one more level query).
    """
    raw = list(dict.fromkeys(starts))
    canon = graph.canonical(conn, raw)
    result = Walk(direction, list(dict.fromkeys(canon.get(n, n) for n in raw)))
    result.depth = dict.fromkeys(result.starts, 0)
    frontier, level = list(result.starts), 0
    while frontier and level < depth:
        hops = graph.expand(conn, frontier, direction)
        canon = graph.canonical(conn, [hop[1] for hop in hops])
        with_neighbours: set[Node] = set()
        fresh: list[Node] = []
        for origin, neighbour, run_uuid in sorted(hops, key=_FRONTIER_NODE_THEN_NEIGHBOUR):
            target = canon.get(neighbour, neighbour)
            if target == origin:
                continue
            with_neighbours.add(origin)
            if target not in result.depth:
                if len(result.depth) >= max_nodes:
                    result.truncated = True
                    continue
                result.depth[target] = level + 1
                result.via[target] = origin
                fresh.append(target)
            result.edges.add(_oriented(origin, target, run_uuid, direction))
        result.ends.update(n for n in frontier if n not in with_neighbours)
        frontier, level = fresh, level + 1
    if probe_ends and frontier and not result.truncated:
        probed = {hop[0] for hop in graph.expand(conn, frontier, direction)}
        result.ends.update(n for n in frontier if n not in probed)
    if isinstance(graph, _DatasetGraph):
        result.members = {n: graph.members[n] for n in result.depth if n in graph.members}
    return result


_FRONTIER_NODE_THEN_NEIGHBOUR = itemgetter(0, 1)  # the run of a hop never decides depth or via


def _oriented(origin: Node, target: Node, run_uuid: str | None, direction: Direction) -> Edge:
    if direction == "downstream":
        return _tuple_new(Edge, (origin, target, run_uuid))
    return _tuple_new(Edge, (target, origin, run_uuid))


# -- dataset/job graphs ------------------------------------------------------------------------


class _DatasetGraph(Graph):
    """Shared by the current and as-of graphs: symlinked datasets are merged into one node."""

    def __init__(self) -> None:
        self.members: dict[Node, set[Node]] = {}
        self._canon: dict[Node, Node] = {}
        self._has_symlinks: bool | None = None

    def canonical(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Node]:
        if not self._symlinks_exist(conn):
            return {}  # every node represents itself
        datasets = [n for n in nodes if n.type == "dataset" and n not in self._canon]
        if datasets:
            self._link(conn, [int(n.id) for n in datasets])
        for node in datasets:
            self._canon.setdefault(node, node)
        return {n: self._canon[n] for n in nodes if n in self._canon}

    def dataset_ids(self, frontier: Iterable[Node]) -> dict[int, Node]:
        """Every stored dataset id behind the frontier's dataset nodes -> its frontier node."""
        ids: dict[int, Node] = {}
        for node in frontier:
            if node.type == "dataset":
                for member in self.members.get(node, {node}):
                    ids[int(member.id)] = node
        return ids

    def _symlinks_exist(self, conn: Connection) -> bool:
        if self._has_symlinks is None:
            self._has_symlinks = bool(
                conn.execute(select(exists().select_from(symlinks_t))).scalar()
            )
        return self._has_symlinks

    def _link(self, conn: Connection, ids: list[int]) -> None:
        """Merge each (declaring dataset, aliased dataset) pair touching ``ids``."""
        for owner_id, alias_id in symlink_pairs(conn, ids):
            owner, alias = dataset(owner_id), dataset(alias_id)
            if owner == alias:
                continue
            rep_owner = self._canon.get(owner, owner)
            rep_alias = self._canon.get(alias, alias)
            rep = min(rep_owner, rep_alias, key=lambda n: (n != rep_owner, n.id))
            group = (
                self.members.pop(rep_owner, {rep_owner})
                | self.members.pop(rep_alias, {rep_alias})
                | {owner, alias}
            )
            self.members[rep] = group
            for member in group:
                self._canon[member] = rep


def symlink_pairs(conn: Connection, ids: Sequence[int]) -> list[tuple[int, int]]:
    """(declaring dataset, aliased dataset) pairs where either side is in ``ids``: the aliased
    dataset is the one stored under a ``symlinks`` identifier of the declaring one."""
    ns_of_alias = namespaces_t.c.name == symlinks_t.c.namespace
    declared = fetch_in(
        conn,
        symlinks_t.c.dataset_id,
        ids,
        lambda cond: (
            select(symlinks_t.c.dataset_id, datasets_t.c.id)
            .join(namespaces_t, ns_of_alias)
            .join(
                datasets_t,
                and_(
                    datasets_t.c.namespace_id == namespaces_t.c.id,
                    datasets_t.c.name == symlinks_t.c.name,
                ),
            )
            .where(cond)
        ),
    )
    aliased = fetch_in(
        conn,
        datasets_t.c.id,
        ids,
        lambda cond: (
            select(symlinks_t.c.dataset_id, datasets_t.c.id)
            .select_from(datasets_t)
            .join(namespaces_t, namespaces_t.c.id == datasets_t.c.namespace_id)
            .join(symlinks_t, and_(ns_of_alias, symlinks_t.c.name == datasets_t.c.name))
            .where(cond)
        ),
    )
    return sorted({(int(o), int(a)) for o, a in [*declared, *aliased] if o != a})


class CurrentGraph(_DatasetGraph):
    """Each job's current edges (``job_edges``), read the same way in both directions.

    Keys (for ``propagate``): without symlinks, integers (dataset ``2 * id``, job ``2 * id + 1``)
    and each level is two statements returning the edges as two arrays, so a propagation over
    the whole graph handles plain ints instead of a row and two nodes per edge.
    """

    symmetric = True

    def __init__(self) -> None:
        super().__init__()
        self._adjacency: dict[tuple[int, str], Mapping[int, Sequence[int]]] = {}

    def keys(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Hashable]:
        if self._symlinks_exist(conn):
            return super().keys(conn, nodes)
        return {node: self.key_of(node) for node in nodes}

    def node_of(self, key: Hashable) -> Node:
        if isinstance(key, int):
            return job(key >> 1) if key & 1 else dataset(key >> 1)
        return super().node_of(key)

    def key_of(self, node: Node) -> Hashable:
        if self._has_symlinks is False and node.type in ("dataset", "job"):
            return int(node.id) << 1 | (node.type == "job")
        return node

    def ids_by_type(self, keys: Iterable[Hashable]) -> dict[str, set[Any]]:
        if self._has_symlinks is not False:
            return super().ids_by_type(keys)
        keys = set(keys)  # all integers: datasets even, jobs odd
        jobs = {key for key in keys if key & 1}  # type: ignore[operator]
        return {
            "dataset": {key >> 1 for key in keys - jobs},  # type: ignore[operator]
            "job": {key >> 1 for key in jobs},  # type: ignore[operator]
        }

    def neighbours(
        self, conn: Connection, frontier: list[Hashable], direction: Direction
    ) -> Adjacency:
        if self._symlinks_exist(conn):
            return super().neighbours(conn, frontier, direction)
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


def _edge_lists(
    conn: Connection, from_jobs: bool, ids: list[int] | None, side: str
) -> Mapping[int, Sequence[int]]:
    """Key -> neighbour keys over the ``job_edges`` on ``side``, from jobs (else datasets) with
    these ``ids`` (all of them when None). The edges come as two parallel arrays of keys computed
    by the database: one row, not one row per edge (``array_agg``; ``json_group_array`` on
    SQLite; both aggregates see the rows in the same order)."""
    edges = job_edges_t.c
    dataset_key, job_key = edges.dataset_id * 2, edges.job_id * 2 + 1
    source, target, column = (
        (job_key, dataset_key, edges.job_id)
        if from_jobs
        else (dataset_key, job_key, edges.dataset_id)
    )
    postgres = conn.dialect.name == "postgresql"
    aggregate = func.array_agg if postgres else func.json_group_array
    query = select(aggregate(source), aggregate(target)).where(edges.direction == side)
    if ids is not None:
        query = query.where(member_of(conn, column, ids))
    sources, targets = conn.execute(query).one()
    if not postgres:
        sources, targets = orjson.loads(sources), orjson.loads(targets)
    sources, targets = sources or [], targets or []
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


_STATIC = "static"


class AsOfGraph(_DatasetGraph):
    """The graph as it stood at ``as_of``: each job's edges from the run it had as current then."""

    def __init__(self, as_of: datetime) -> None:
        super().__init__()
        self.as_of = as_of
        self._chosen: dict[int, str | None] = {}

    def chosen_runs(self, conn: Connection, job_ids: Iterable[int]) -> dict[int, str | None]:
        """Per job: the run whose edges count at ``as_of`` (``"static"``: JobEvent lineage)."""
        missing = [j for j in dict.fromkeys(job_ids) if j not in self._chosen]
        if missing:
            self._chosen.update(dict.fromkeys(missing))
            self._chosen.update(latest_runs_as_of(conn, missing, self.as_of))
            without = [j for j in missing if self._chosen[j] is None]
            created = fetch_in(
                conn,
                jobs_t.c.id,
                without,
                lambda cond: select(jobs_t.c.id).where(cond, jobs_t.c.created_at <= self.as_of),
            )
            self._chosen.update({row[0]: _STATIC for row in created})
        return {j: self._chosen[j] for j in job_ids}

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        downstream = direction == "downstream"
        read_side = "in" if downstream else "out"
        hops: list[Hop] = []
        datasets = self.dataset_ids(frontier)
        if datasets:
            hops.extend(self._jobs_touching(conn, datasets, read_side))
        jobs = [int(n.id) for n in frontier if n.type == "job"]
        if jobs:
            other_side = "out" if downstream else "in"
            for job_id, ds, run_uuid in self._edges_of(conn, jobs, other_side):
                hops.append((job(job_id), dataset(ds), run_uuid))
        return hops

    def _jobs_touching(self, conn: Connection, datasets: dict[int, Node], side: str) -> list[Hop]:
        candidates = fetch_in(
            conn,
            run_io_t.c.dataset_id,
            datasets,
            lambda cond: (
                select(runs_t.c.job_id)
                .distinct()
                .select_from(run_io_t)
                .join(runs_t, runs_t.c.uuid == run_io_t.c.run_uuid)
                .where(cond, run_io_t.c.direction == side, runs_t.c.first_event_time <= self.as_of)
            ),
        )
        static = fetch_in(
            conn,
            static_io_t.c.dataset_id,
            datasets,
            lambda cond: select(static_io_t.c.job_id).where(cond, static_io_t.c.direction == side),
        )
        job_ids = sorted({row[0] for row in [*candidates, *static]})
        return [
            (datasets[ds], job(job_id), run_uuid)
            for job_id, ds, run_uuid in self._edges_of(conn, job_ids, side)
            if ds in datasets
        ]

    def _edges_of(
        self, conn: Connection, job_ids: list[int], side: str
    ) -> list[tuple[int, int, str | None]]:
        """(job, dataset, run) edges on ``side`` of each job's chosen run."""
        chosen = self.chosen_runs(conn, job_ids)
        by_run = {r: j for j, r in chosen.items() if r is not None and r != _STATIC}
        edges: list[tuple[int, int, str | None]] = []
        rows = fetch_in(
            conn,
            run_io_t.c.run_uuid,
            by_run,
            lambda cond: select(run_io_t.c.run_uuid, run_io_t.c.dataset_id).where(
                cond, run_io_t.c.direction == side
            ),
        )
        edges.extend((by_run[r], ds, r) for r, ds in rows)
        static_jobs = [j for j, r in chosen.items() if r == _STATIC]
        rows = fetch_in(
            conn,
            static_io_t.c.job_id,
            static_jobs,
            lambda cond: select(static_io_t.c.job_id, static_io_t.c.dataset_id).where(
                cond, static_io_t.c.direction == side
            ),
        )
        edges.extend((j, ds, None) for j, ds in rows)
        return edges


def latest_runs_as_of(conn: Connection, job_ids: Sequence[int], as_of: datetime) -> dict[int, str]:
    """Per job, its latest run COMPLETE at or before ``as_of``, else its latest run seen by then."""
    done = and_(runs_t.c.state == "COMPLETE", runs_t.c.ended_at <= as_of)
    started = func.coalesce(runs_t.c.started_at, runs_t.c.first_event_time)
    rank_time = case((done, runs_t.c.ended_at), else_=started)
    order = func.row_number().over(
        partition_by=runs_t.c.job_id,
        order_by=(case((done, 1), else_=0).desc(), rank_time.desc(), runs_t.c.uuid.desc()),
    )

    def build(cond: ColumnElement[bool]) -> Select[tuple[int, str]]:
        ranked = (
            select(runs_t.c.job_id, runs_t.c.uuid, order.label("rn"))
            .where(cond, runs_t.c.first_event_time <= as_of)
            .subquery()
        )
        return select(ranked.c.job_id, ranked.c.uuid).where(ranked.c.rn == 1)

    return {int(row[0]): str(row[1]) for row in fetch_in(conn, runs_t.c.job_id, job_ids, build)}


# -- version-pinned graph ----------------------------------------------------------------------


class VersionGraph(Graph):
    """Dataset versions and runs (see the module docstring)."""

    def __init__(self) -> None:
        self._has_symlinks: bool | None = None
        self._reads: dict[str, list[Read]] = {}  # reads of producing runs, fetched with them

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        versions = [int(n.id) for n in frontier if n.type == "version"]
        plain = [int(n.id) for n in frontier if n.type == "dataset"]
        runs = [str(n.id) for n in frontier if n.type == "run"]
        hops: list[Hop] = []
        if direction == "upstream":
            for vid, run_uuid in self._producing_runs(conn, versions):
                hops.append((version(vid), run(run_uuid), run_uuid))
            for run_uuid, target in self._read_versions(conn, runs):
                hops.append((run(run_uuid), target, run_uuid))
        else:
            for run_uuid, target in self._readers(conn, versions, plain):
                hops.append((target, run(run_uuid), run_uuid))
            for run_uuid, target in written_versions(conn, runs):
                hops.append((run(run_uuid), target, run_uuid))
        return hops

    def _producing_runs(self, conn: Connection, versions: list[int]) -> list[tuple[int, str]]:
        """``producing_runs``, fetching what each producing run read in the same statement (the
        next upstream level asks for it)."""
        if not versions:
            return []
        rows = fetch_in(
            conn,
            versions_t.c.id,
            versions,
            lambda cond: (
                select(
                    versions_t.c.id,
                    versions_t.c.run_uuid,
                    run_io_t.c.dataset_id,
                    run_io_t.c.version_id,
                    _read(),
                )
                .select_from(versions_t)
                .outerjoin(
                    run_io_t,
                    and_(
                        run_io_t.c.run_uuid == versions_t.c.run_uuid,
                        run_io_t.c.direction == "in",
                    ),
                )
                .outerjoin(runs_t, runs_t.c.uuid == run_io_t.c.run_uuid)
                .where(cond)
            ),
        )
        found: dict[tuple[int, str], None] = {}
        orphans: list[int] = []
        for vid, run_uuid, dataset_id, named, at_start in rows:
            if run_uuid is None:
                orphans.append(vid)
                continue
            found[(vid, run_uuid)] = None
            reads = self._reads.setdefault(run_uuid, [])
            if dataset_id is not None:
                reads.append((run_uuid, dataset_id, named, at_start))
        return [*found, *producing_runs(conn, orphans)]

    def _read_versions(self, conn: Connection, runs: list[str]) -> list[tuple[str, Node]]:
        """``read_versions``, from the reads fetched with the producing runs where possible."""
        known = [read for r in runs if r in self._reads for read in self._reads[r]]
        fetched = [r for r in runs if r not in self._reads]
        symlinks = self._symlinks(conn)
        found = _read_targets(conn, known, symlinks) if known else []
        return [*found, *read_versions(conn, fetched, symlinks=symlinks)]

    def _symlinks(self, conn: Connection) -> bool:
        if self._has_symlinks is None:
            self._has_symlinks = symlinks_exist(conn)
        return self._has_symlinks

    def _readers(
        self, conn: Connection, versions: list[int], plain: list[int]
    ) -> list[tuple[str, Node]]:
        """(run, version or dataset node it read) for runs that read exactly these nodes."""
        if not versions and not plain:
            return []
        if not self._symlinks(conn):
            return _reads_of(conn, versions, plain)
        exact = fetch_in(
            conn,
            run_io_t.c.version_id,
            versions,
            lambda cond: select(run_io_t.c.run_uuid, run_io_t.c.version_id).where(
                cond, run_io_t.c.direction == "in"
            ),
        )
        found = [(r, version(v)) for r, v in exact]
        unpinned = self._unpinned_via_symlinks(conn, versions, plain)
        wanted = set(versions)
        plain_set = set(plain)
        for run_uuid, target in unpinned:
            if (target.type == "version" and int(target.id) in wanted) or (
                target.type == "dataset" and int(target.id) in plain_set
            ):
                found.append((run_uuid, target))
        return found

    def _unpinned_via_symlinks(
        self, conn: Connection, versions: list[int], plain: list[int]
    ) -> list[tuple[str, Node]]:
        """What the runs reading these datasets (or datasets symlinked with them) without a
        version resolved their reads to."""
        owners = fetch_in(
            conn,
            versions_t.c.id,
            versions,
            lambda cond: select(versions_t.c.dataset_id).where(cond),
        )
        dataset_ids = {row[0] for row in owners} | set(plain)
        for partners in symlink_partners(conn, dataset_ids).values():
            dataset_ids |= partners
        unpinned = fetch_in(
            conn,
            run_io_t.c.dataset_id,
            sorted(dataset_ids),
            lambda cond: select(run_io_t.c.run_uuid).where(
                cond, run_io_t.c.direction == "in", run_io_t.c.version_id.is_(None)
            ),
        )
        return read_versions(conn, sorted({row[0] for row in unpinned}), symlinks=True)


def _reads_of(conn: Connection, versions: list[int], plain: list[int]) -> list[tuple[str, Node]]:
    """(run, node) for the runs that read exactly these versions or unversioned datasets, in a
    database without symlinks: reads naming one of the versions, and reads naming no version of
    their datasets that resolve (as ``read_versions`` does) to one of them. One statement, a
    branch per kind of match so that each keeps its index (an OR of them scans ``run_io``)."""
    io = run_io_t.c
    branches: list[Select[Any]] = []
    unversioned = (
        select(io.run_uuid, io.dataset_id, io.version_id, _version_at_start())
        .select_from(run_io_t)
        .join(runs_t, runs_t.c.uuid == io.run_uuid)
        .where(io.direction == "in", io.version_id.is_(None))
    )
    if versions:
        branches.append(
            select(io.run_uuid, io.dataset_id, io.version_id, null()).where(
                io.direction == "in", member_of(conn, io.version_id, versions)
            )
        )
        owners = select(versions_t.c.dataset_id).where(member_of(conn, versions_t.c.id, versions))
        branches.append(unversioned.where(io.dataset_id.in_(owners)))
    if plain:
        branches.append(unversioned.where(member_of(conn, io.dataset_id, plain)))
    rows = conn.execute(union_all(*branches) if len(branches) > 1 else branches[0])
    wanted, plain_set = set(versions), set(plain)
    found: dict[tuple[str, Node], None] = {}
    for run_uuid, dataset_id, named, at_start in rows:
        if named is not None:
            found[(run_uuid, version(named))] = None
        elif at_start is not None and at_start in wanted:
            found[(run_uuid, version(at_start))] = None
        elif at_start is None and dataset_id in plain_set:
            found[(run_uuid, dataset(dataset_id))] = None
    return list(found)


def producing_runs(conn: Connection, version_ids: Sequence[int]) -> list[tuple[int, str]]:
    """(version, run that produced it). A version only ever seen as an input falls back to the
    latest run that COMPLETEd writing its dataset at or before the version was first seen."""
    rows = fetch_in(
        conn,
        versions_t.c.id,
        version_ids,
        lambda cond: select(versions_t.c.id, versions_t.c.run_uuid).where(cond),
    )
    found = [(vid, run_uuid) for vid, run_uuid in rows if run_uuid is not None]
    orphans = [vid for vid, run_uuid in rows if run_uuid is None]
    order = func.row_number().over(
        partition_by=versions_t.c.id,
        order_by=(runs_t.c.ended_at.desc(), runs_t.c.uuid.desc()),
    )

    def build(cond: ColumnElement[bool]) -> Select[tuple[int, str]]:
        ranked = (
            select(versions_t.c.id, run_io_t.c.run_uuid, order.label("rn"))
            .select_from(versions_t)
            .join(
                run_io_t,
                and_(
                    run_io_t.c.dataset_id == versions_t.c.dataset_id,
                    run_io_t.c.direction == "out",
                ),
            )
            .join(runs_t, runs_t.c.uuid == run_io_t.c.run_uuid)
            .where(cond, runs_t.c.state == "COMPLETE", runs_t.c.ended_at <= versions_t.c.created_at)
            .subquery()
        )
        return select(ranked.c.id, ranked.c.run_uuid).where(ranked.c.rn == 1)

    found.extend(
        (vid, run_uuid) for vid, run_uuid in fetch_in(conn, versions_t.c.id, orphans, build)
    )
    return found


def read_versions(
    conn: Connection, run_uuids: Sequence[str], *, symlinks: bool | None = None
) -> list[tuple[str, Node]]:
    """(run, version it read): the named version, else the dataset's latest version created at or
    before the run started, else the unversioned ``dataset`` node. One statement, plus symlink
    lookups for reads that found no version when ``symlinks`` (checked when None) exist."""
    rows = fetch_in(
        conn,
        run_io_t.c.run_uuid,
        run_uuids,
        lambda cond: (
            select(run_io_t.c.run_uuid, run_io_t.c.dataset_id, run_io_t.c.version_id, _read())
            .select_from(run_io_t)
            .join(runs_t, runs_t.c.uuid == run_io_t.c.run_uuid)
            .where(cond, run_io_t.c.direction == "in")
        ),
    )
    return _read_targets(conn, rows, symlinks)


Read = tuple[str, int, int | None, int | None]  # (run, dataset, named version, version at start)


@cache
def _read() -> Any:
    """The version an unversioned read resolves to (NULL for a read that names its version)."""
    return case((run_io_t.c.version_id.is_(None), _version_at_start()), else_=None)


def _read_targets(
    conn: Connection, rows: Iterable[Read], symlinks: bool | None
) -> list[tuple[str, Node]]:
    """``read_versions``'s answer from its rows: named versions (in row order), then the
    resolved unversioned reads in (run, dataset) order."""
    rows = list(rows)
    found: list[tuple[str, Node]] = [(r, version(v)) for r, _, v, _ in rows if v is not None]
    unpinned = {(r, ds): at_start for r, ds, v, at_start in rows if v is None}
    missing = [pair for pair, vid in unpinned.items() if vid is None]
    if missing and (symlinks if symlinks is not None else symlinks_exist(conn)):
        unpinned.update(_versions_via_symlinks(conn, missing))
    for run_uuid, dataset_id in sorted(unpinned):
        vid = unpinned[(run_uuid, dataset_id)]
        found.append((run_uuid, version(vid) if vid is not None else dataset(dataset_id)))
    return found


@cache  # built once: an alias's column collection costs more than compiling the statement
def _version_at_start() -> Any:
    """Correlated scalar subquery: the latest version of ``run_io.dataset_id`` created at or
    before ``runs`` started (latest creation time, then highest id)."""
    started = func.coalesce(runs_t.c.started_at, runs_t.c.first_event_time)
    latest = versions_t.alias("latest")
    return (
        select(latest.c.id)
        .where(latest.c.dataset_id == run_io_t.c.dataset_id, latest.c.created_at <= started)
        .order_by(latest.c.created_at.desc(), latest.c.id.desc())
        .limit(1)
        .correlate(run_io_t, runs_t)
        .scalar_subquery()
    )


def symlinks_exist(conn: Connection) -> bool:
    """Whether any dataset declares a symlink (else symlink lookups can be skipped)."""
    return bool(conn.execute(select(exists().select_from(symlinks_t))).scalar())


def _versions_via_symlinks(
    conn: Connection, reads: list[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """For reads of a dataset that has no version by then: the latest version of a symlinked
    dataset (a table read by name whose versions are recorded on the path it aliases)."""
    partners = symlink_partners(conn, {ds for _, ds in reads})
    wanted = {p for _, ds in reads for p in partners.get(ds, ())}
    if not wanted:
        return {}
    started = dict(
        fetch_in(
            conn,
            runs_t.c.uuid,
            [r for r, _ in reads],
            lambda cond: select(
                runs_t.c.uuid, func.coalesce(runs_t.c.started_at, runs_t.c.first_event_time)
            ).where(cond),
        )
    )
    versions = fetch_in(
        conn,
        versions_t.c.dataset_id,
        wanted,
        lambda cond: (
            select(versions_t.c.dataset_id, versions_t.c.id, versions_t.c.created_at)
            .where(cond)
            .order_by(versions_t.c.created_at.desc(), versions_t.c.id.desc())
        ),
    )
    found: dict[tuple[str, int], int] = {}
    for run_uuid, dataset_id in reads:
        at = started.get(run_uuid)
        candidates = [
            (created, vid)
            for ds, vid, created in versions
            if ds in partners.get(dataset_id, ()) and at is not None and created <= at
        ]
        if candidates:
            found[(run_uuid, dataset_id)] = max(candidates)[1]
    return found


def symlink_partners(conn: Connection, ids: Iterable[int]) -> dict[int, set[int]]:
    """Dataset id -> the ids it is symlinked with (either way)."""
    partners: dict[int, set[int]] = {}
    for owner, alias in symlink_pairs(conn, sorted(set(ids))):
        partners.setdefault(owner, set()).add(alias)
        partners.setdefault(alias, set()).add(owner)
    return partners


def written_versions(conn: Connection, run_uuids: Sequence[str]) -> list[tuple[str, Node]]:
    """(run, version it wrote): the named version, else the version it produced, else the
    unversioned ``dataset`` node (a run that has not completed). One statement."""
    own_version = _own_version()
    rows = fetch_in(
        conn,
        run_io_t.c.run_uuid,
        run_uuids,
        lambda cond: select(
            run_io_t.c.run_uuid,
            run_io_t.c.dataset_id,
            func.coalesce(run_io_t.c.version_id, own_version),
        ).where(cond, run_io_t.c.direction == "out"),
    )
    return [
        (run_uuid, version(vid) if vid is not None else dataset(dataset_id))
        for run_uuid, dataset_id, vid in rows
    ]


@cache
def _own_version() -> Any:
    """Correlated scalar subquery: the version ``run_io.run_uuid`` produced of its dataset."""
    produced = versions_t.alias("produced")
    return (
        select(func.max(produced.c.id))
        .where(
            produced.c.run_uuid == run_io_t.c.run_uuid,
            produced.c.dataset_id == run_io_t.c.dataset_id,
        )
        .correlate(run_io_t)
        .scalar_subquery()
    )


# -- column graph ------------------------------------------------------------------------------


class ColumnGraph(Graph):
    """Column-level lineage: an output column is derived from input columns.

    Without ``as_of`` it walks the current ``columnLineage`` facets (``column_lineage``). With
    ``as_of`` it reads each dataset's ``columnLineage`` as its latest version created by then
    reported it (datasets without versions keep their current facet); downstream candidates are
    the datasets written, as of then, by the jobs reading the frontier's datasets.
    """

    def __init__(self, as_of: datetime | None = None) -> None:
        self.as_of = as_of
        self._datasets = AsOfGraph(as_of) if as_of is not None else None

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        fields: dict[int, set[str]] = {}
        for node in frontier:
            fields.setdefault(int(node.id), set()).add(node.field)
        if self.as_of is not None:
            return self._expand_as_of(conn, fields, direction)
        cl = column_lineage_t.c
        if direction == "upstream":
            rows = fetch_in(
                conn,
                cl.dataset_id,
                fields,
                lambda cond: select(
                    cl.dataset_id, cl.field, cl.input_dataset_id, cl.input_field
                ).where(cond),
            )
            return [
                (column(ds, f), column(in_ds, in_f), None)
                for ds, f, in_ds, in_f in rows
                if f in fields[ds]
            ]
        rows = fetch_in(
            conn,
            cl.input_dataset_id,
            fields,
            lambda cond: select(cl.input_dataset_id, cl.input_field, cl.dataset_id, cl.field).where(
                cond
            ),
        )
        return [
            (column(in_ds, in_f), column(ds, f), None)
            for in_ds, in_f, ds, f in rows
            if in_f in fields[in_ds]
        ]

    def _expand_as_of(
        self, conn: Connection, fields: dict[int, set[str]], direction: Direction
    ) -> list[Hop]:
        assert self._datasets is not None
        assert self.as_of is not None
        if direction == "upstream":
            links = column_links_as_of(conn, list(fields), self.as_of)
            return [
                (column(ds, f), column(in_ds, in_f), None)
                for ds, f, in_ds, in_f in links
                if f in fields[ds]
            ]
        starts = [dataset(ds) for ds in fields]
        jobs = {hop[1] for hop in self._datasets.expand(conn, starts, "downstream")}
        outputs = {
            int(hop[1].id) for hop in self._datasets.expand(conn, sorted(jobs), "downstream")
        }
        links = column_links_as_of(conn, sorted(outputs), self.as_of)
        return [
            (column(in_ds, in_f), column(ds, f), None)
            for ds, f, in_ds, in_f in links
            if in_f in fields.get(in_ds, ())
        ]


def column_links_as_of(
    conn: Connection, dataset_ids: Sequence[int], as_of: datetime
) -> list[tuple[int, str, int, str]]:
    """(dataset, column, input dataset, input column) from the ``columnLineage`` facet each
    dataset's latest version created by ``as_of`` carried; the current facet for datasets that
    have no version at all."""
    order = func.row_number().over(
        partition_by=versions_t.c.dataset_id,
        order_by=(versions_t.c.created_at.desc(), versions_t.c.id.desc()),
    )

    def build(cond: ColumnElement[bool]) -> Select[tuple[int, Any]]:
        ranked = (
            select(versions_t.c.dataset_id, versions_t.c.facets, order.label("rn"))
            .where(cond, versions_t.c.created_at <= as_of)
            .subquery()
        )
        return select(ranked.c.dataset_id, ranked.c.facets).where(ranked.c.rn == 1)

    facets = dict(fetch_in(conn, versions_t.c.dataset_id, dataset_ids, build))
    versioned_ids = {
        row[0]
        for row in fetch_in(
            conn,
            versions_t.c.dataset_id,
            dataset_ids,
            lambda cond: select(versions_t.c.dataset_id).distinct().where(cond),
        )
    }
    wanted: list[tuple[int, str, str, str, str]] = []
    for ds, version_facets in facets.items():
        lineage = (version_facets or {}).get("columnLineage") or {}
        for out_field, spec in (lineage.get("fields") or {}).items():
            for source in (spec or {}).get("inputFields") or []:
                wanted.append(
                    (
                        ds,
                        str(out_field),
                        str(source["namespace"]),
                        str(source["name"]),
                        str(source["field"]),
                    )
                )
    names = sorted({(ns, name) for _, _, ns, name, _ in wanted})
    ids = {
        (ns, name): id_
        for id_, ns, name in (
            conn.execute(
                select(datasets_t.c.id, namespaces_t.c.name, datasets_t.c.name)
                .join(namespaces_t, namespaces_t.c.id == datasets_t.c.namespace_id)
                .where(tuple_(namespaces_t.c.name, datasets_t.c.name).in_(names))
            )
            if names
            else []
        )
    }
    links = [
        (ds, f, ids[(ns, name)], in_f) for ds, f, ns, name, in_f in wanted if (ns, name) in ids
    ]
    unversioned = [ds for ds in dataset_ids if ds not in versioned_ids]
    cl = column_lineage_t.c
    links.extend(
        fetch_in(
            conn,
            cl.dataset_id,
            unversioned,
            lambda cond: select(cl.dataset_id, cl.field, cl.input_dataset_id, cl.input_field).where(
                cond
            ),
        )
    )
    return [(int(a), str(b), int(c), str(d)) for a, b, c, d in links]


# -- multi-origin propagation ------------------------------------------------------------------

Origins = frozenset[int]  # indexes into ``Propagation.origins``
_NONE: Origins = frozenset()


@dataclass
class Propagation:
    """Which origins reach which nodes, at which hop distance, with one shortest path per pair.

    Origins are numbered in node order; nodes are the graph's keys (``Graph.keys``) inside.
    ``levels[d]`` maps each node to the set of origins that first reach it at ``d`` hops;
    ``adjacency[d]`` holds the neighbours of level ``d - 1``'s nodes, which level ``d`` was
    expanded along.
    """

    direction: Direction
    graph: Graph
    origins: list[Node] = field(default_factory=list)
    levels: list[dict[Hashable, Origins]] = field(default_factory=list)
    adjacency: list[Adjacency] = field(default_factory=list)
    truncated: bool = False
    index: dict[Node, int] = field(default_factory=dict)
    _vias: dict[tuple[Hashable, int], Hashable] = field(default_factory=dict, repr=False)

    def reaching(self, node: Node) -> list[tuple[Node, int]]:
        """(origin, hop distance) of every origin that reaches ``node``."""
        key = self.graph.key_of(node)
        return [
            (self.origins[bit], hops)
            for hops, level in enumerate(self.levels)
            for bit in level.get(key, _NONE)
        ]

    def count(self, node: Node) -> int:
        """How many origins reach ``node``."""
        key = self.graph.key_of(node)
        return sum(len(level.get(key, _NONE)) for level in self.levels)

    def ids_by_type(self) -> dict[str, set[Any]]:
        """The ids of the nodes some origin reaches, by node type (without building the nodes)."""
        return self.graph.ids_by_type(key for level in self.levels for key in level)

    def paths(self, conn: Connection, pairs: Sequence[tuple[Node, Node, int]]) -> list[list[Node]]:
        """One shortest path for each (node, origin, hops): between ``origin``'s start and
        ``node``, in data-flow order, each step back going to the least node (in node order) of
        the level before that the origin reached and that leads to it. Computed together, level
        by level, looking up only the steps back these paths need (each is remembered)."""
        chains = [[self.graph.key_of(node)] for node, _, _ in pairs]
        bits = [self.index[origin] for _, origin, _ in pairs]
        for level in range(max((hops for _, _, hops in pairs), default=0), 0, -1):
            rows = [i for i, (_, _, hops) in enumerate(pairs) if hops >= level]
            wanted = {chains[i][-1] for i in rows if (chains[i][-1], bits[i]) not in self._vias}
            sources = self._sources_of(conn, level, wanted)
            before = self.levels[level - 1]
            for i in rows:
                key, bit = chains[i][-1], bits[i]
                via = self._vias.get((key, bit))
                if via is None:
                    found = [s for s in sources[key] if bit in before.get(s, _NONE)]
                    via = min(found, key=self.graph.node_of) if len(found) > 1 else found[0]
                    self._vias[(key, bit)] = via
                chains[i].append(via)
        node_of = self.graph.node_of
        return [
            [node_of(key) for key in (chain[::-1] if self.direction == "downstream" else chain)]
            for chain in chains
        ]

    def steps(self) -> set[tuple[Node, Node]]:
        """The hops (in data-flow order) of every path computed so far."""
        node_of = self.graph.node_of
        hops = {(node_of(via), node_of(key)) for (key, _), via in self._vias.items()}
        return hops if self.direction == "downstream" else {(b, a) for a, b in hops}

    def _sources_of(
        self, conn: Connection, hops: int, wanted: set[Hashable]
    ) -> dict[Hashable, list[Hashable]]:
        """The ``wanted`` nodes of level ``hops`` -> the nodes one hop before them. A graph whose
        edges read the same both ways (``Graph.symmetric``) is asked for the wanted nodes'
        neighbours the other way; otherwise the level's steps are scanned."""
        before, adjacency = self.levels[hops - 1], self.adjacency[hops]
        if self.graph.symmetric:
            back: Direction = "upstream" if self.direction == "downstream" else "downstream"
            reverse = self.graph.neighbours(conn, list(wanted), back) if wanted else {}
            return {
                key: [
                    s for s in reverse.get(key, ()) if s in before and key in adjacency.get(s, ())
                ]
                for key in wanted
            }
        sources: dict[Hashable, list[Hashable]] = {key: [] for key in wanted}
        for origin in before:
            for target in adjacency.get(origin, ()):
                if target in sources:
                    sources[target].append(origin)
        return sources


def propagate(
    graph: Graph,
    conn: Connection,
    origins: Iterable[Node] | Mapping[Node, Node],
    direction: Direction,
    *,
    depth: int,
    max_pairs: int = 20 * DEFAULT_MAX_NODES,
) -> Propagation:
    """Walk from all ``origins`` at once, remembering which origins reach each node.

    The same contract as ``walk`` (directed, depth = hops, cap, set-based levels), with the visited
    set kept per (node, origin) pair: each level expands the distinct frontier nodes of all origins
    in one go, so the cost is per level, not per origin; a step costs one set operation on the
    origins it carries (usually a few), not one per (step, origin). At most ``max_pairs`` pairs are
    kept: pairs are admitted in (level, frontier node, neighbour, origin) order until then, and
    ``truncated`` is set. ``origins`` may map start nodes to the origin they stand for (all
    versions of one tagged dataset count as that dataset).
    """
    labelled = dict(origins) if isinstance(origins, Mapping) else {o: o for o in origins}
    keys = graph.keys(conn, list({*labelled, *labelled.values()}))
    result = Propagation(direction, graph)
    result.origins = sorted({graph.node_of(keys[label]) for label in labelled.values()})
    result.index = {origin: i for i, origin in enumerate(result.origins)}
    frontier: dict[Hashable, Origins] = {}
    for start, label in labelled.items():
        key = keys[start]
        bit = result.index[graph.node_of(keys[label])]
        frontier[key] = frontier.get(key, _NONE) | {bit}
    seen = dict(frontier)
    count = sum(len(found) for found in frontier.values())
    result.levels.append(frontier)
    result.adjacency.append({})
    while frontier and len(result.levels) <= depth:
        adjacency = graph.neighbours(conn, list(frontier), direction)
        fresh: dict[Hashable, Origins] = {}
        for origin, carried in frontier.items():
            for target in adjacency.get(origin, ()):
                known = seen.get(target)
                if known is None:  # the usual case: a first visit shares the origin set
                    seen[target] = fresh[target] = carried
                elif not carried <= known:
                    new = carried - known
                    seen[target] = known | new
                    fresh[target] = fresh[target] | new if target in fresh else new
        added = sum(len(found) for found in fresh.values())
        if added and count + added > max_pairs:
            fresh = _capped(graph, adjacency, frontier, seen, fresh, max_pairs - count)
            added = sum(len(found) for found in fresh.values())
            result.truncated = True
        count += added
        result.levels.append(fresh)
        result.adjacency.append(adjacency)
        frontier = fresh
    if not result.levels[-1]:
        result.levels.pop()
        result.adjacency.pop()
    return result


def _capped(
    graph: Graph,
    adjacency: Adjacency,
    frontier: dict[Hashable, Origins],
    seen: dict[Hashable, Origins],
    fresh: dict[Hashable, Origins],
    room: int,
) -> dict[Hashable, Origins]:
    """The level's new pairs admitted in (frontier node, neighbour, origin) order until ``room``
    is used up; ``seen`` (which already holds all of ``fresh``) is corrected to match."""
    for target, found in fresh.items():
        seen[target] = seen[target] - found
    kept: dict[Hashable, Origins] = {}
    node_of = graph.node_of
    steps = [(origin, target) for origin in frontier for target in adjacency.get(origin, ())]
    for origin, target in sorted(steps, key=lambda step: (node_of(step[0]), node_of(step[1]))):
        new = frontier[origin] - seen.get(target, _NONE)
        for bit in sorted(new):
            if room <= 0:
                return kept
            kept[target] = kept.get(target, _NONE) | {bit}
            seen[target] = seen.get(target, _NONE) | {bit}
            room -= 1
    return kept
