"""The walk: the one directed, level-wise breadth-first walk every graph question uses.

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

The graph flavours live beside this module: ``current`` (``CurrentGraph``), ``as_of``
(``AsOfGraph``), ``versions`` (``VersionGraph``) and ``columns`` (``ColumnGraph``);
``propagate`` walks from many origins at once; ``lookups`` holds the run, version and symlink
lookups the graphs and the catalog share. The current, as-of and version graphs with the edges
inferred from orchestration (``edges=all``) are in ``queries/inferred_graph.py``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Protocol

from sqlalchemy import Connection

Direction = Literal["upstream", "downstream"]
DEFAULT_MAX_NODES = 5_000


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


class Graph(Protocol):
    """What ``walk`` and ``propagate`` need of a graph flavour.

    Nodes stand for stored rows; symlinked datasets share one representative node (``canonical``,
    ``members``). ``walk`` reads whole frontiers of nodes (``expand``); ``propagate`` reads
    frontiers of keys (``neighbours``), a key being a compact, hashable stand-in for a
    representative node, chosen once, when the graph is built: the node itself (``NodeGraph``) or
    something cheaper (``current.PlainCurrentGraph``: integers).
    """

    #: The upstream neighbours of a node are exactly the nodes whose downstream neighbours include
    #: it (both directions read the same edges), so a step back can be looked up the other way.
    symmetric: bool

    @property
    def members(self) -> Mapping[Node, set[Node]]:
        """Representative node -> the stored nodes it stands for, where that is more than itself."""
        ...

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        """Every hop from the frontier's nodes in ``direction``, fetched for the whole frontier."""
        ...

    def canonical(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Node]:
        """Nodes -> the node that represents them, for nodes represented by another one."""
        ...

    def keys(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Hashable]:
        """The key of each node's representative."""
        ...

    def node_of(self, key: Hashable) -> Node:
        """The representative node behind a key (``keys``' inverse)."""
        ...

    def key_of(self, node: Node) -> Hashable:
        """The key of a node that already is a representative (as ``node_of`` returns them)."""
        ...

    def ids_by_type(self, keys: Iterable[Hashable]) -> dict[str, set[Any]]:
        """The ids of the nodes behind ``keys``, by node type."""
        ...

    def neighbours(
        self, conn: Connection, frontier: list[Hashable], direction: Direction
    ) -> Adjacency:
        """Each frontier key's distinct neighbour keys in ``direction``, never the key itself
        (keys without neighbours may be missing). The mapping may hold other keys too."""
        ...


class NodeGraph:
    """A ``Graph`` whose keys are its nodes: subclasses implement ``expand`` (and ``canonical``
    when nodes merge); the keyed steps are derived from them."""

    symmetric = False
    members: Mapping[Node, set[Node]] = MappingProxyType({})

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        raise NotImplementedError

    def canonical(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Node]:
        return {}

    def keys(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Hashable]:
        canon = self.canonical(conn, nodes)
        return {node: canon.get(node, node) for node in nodes}

    def node_of(self, key: Hashable) -> Node:
        assert isinstance(key, Node)
        return key

    def key_of(self, node: Node) -> Hashable:
        return node

    def ids_by_type(self, keys: Iterable[Hashable]) -> dict[str, set[Any]]:
        found: dict[str, set[Any]] = {}
        for node in map(self.node_of, keys):
            found.setdefault(node.type, set()).add(node.id)
        return found

    def neighbours(
        self, conn: Connection, frontier: list[Hashable], direction: Direction
    ) -> Adjacency:
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
    if graph.members:
        result.members = {n: graph.members[n] for n in result.depth if n in graph.members}
    return result


_FRONTIER_NODE_THEN_NEIGHBOUR = itemgetter(0, 1)  # the run of a hop never decides depth or via


def _oriented(origin: Node, target: Node, run_uuid: str | None, direction: Direction) -> Edge:
    if direction == "downstream":
        return _tuple_new(Edge, (origin, target, run_uuid))
    return _tuple_new(Edge, (target, origin, run_uuid))
