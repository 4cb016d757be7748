"""``TaintGraph``: how a tagged column travels, for the governance propagation.

States, not nodes: a state is a node of the graph underneath (current, as-of or version graph)
with what of the tag it carries. A dataset (or version) state carries a tagged column, or
nothing more precise than the whole dataset (``None``: job level); a job (or run) state carries
the (dataset, column) it read, or ``None``. Downstream:

- from (dataset, column), every job reading the dataset yields (job, (dataset, column));
- from (job, (dataset, column)), each output the job writes with column lineage
  (``columns.derivations``) yields (output, derived column) for every output column whose input
  columns include (dataset, column) -- none when no column is derived from it -- and an output
  without column lineage yields (output, None);
- an inferred hop (``inferred_graph``: no declared edge, so no column lineage) yields a ``None``
  state, and from a ``None`` state everything onward is job level, as the graph underneath says.

So a state that carries a column is reached only along column-precise hops: its evidence is
``column``; every other state's is ``job``. Symlinked datasets are one node in the current and
as-of graphs; column lineage may name any of them, so tagged and derived-from datasets are compared
by their symlink representative. Cycles are harmless: ``propagate`` visits each (state, origin)
once. Only the downstream direction is defined (that is where a tag goes).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select

from mllineage.collector.db.tables import versions_t
from mllineage.collector.queries.graph.columns import derivations
from mllineage.collector.queries.graph.datasets import DatasetGraph
from mllineage.collector.queries.graph.lookups import symlinks_exist
from mllineage.collector.queries.graph.walk import (
    Adjacency,
    Direction,
    Graph,
    Hop,
    Node,
    dataset,
)
from mllineage.collector.queries.membership import fetch_in

Evidence = Literal["column", "job"]
COLUMN: Evidence = "column"
JOB: Evidence = "job"
_DATA = frozenset({"dataset", "version"})
#: An output's column lineage inverted: (input representative, input column) -> output columns.
_DerivedFrom = dict[tuple[Hashable, str], set[str]]


@dataclass(frozen=True, slots=True)
class Tainted:
    """The key of a state that carries a column: the node's key underneath, and ``carried``: the
    column (dataset or version states) or the (dataset representative, column) read (jobs, runs).
    States that carry nothing more precise are keyed by the node's key alone."""

    key: Hashable
    carried: str | tuple[Hashable, str]


class TaintGraph:
    """A ``Graph`` of taint states over ``inner`` (see the module docstring).

    Starts are dataset (or version) nodes; one whose ``field`` is set starts as that column's
    state, one without as the whole dataset. The nodes it hands out (``node_of``) are ``inner``'s
    nodes, with ``field`` naming what a column state carries (``plain`` drops it). ``as_of``:
    the time the column lineage is read as of (the as-of graph's time).
    """

    symmetric = False

    def __init__(self, inner: Graph, *, as_of: datetime | None = None) -> None:
        self.inner = inner
        self.as_of = as_of
        self._symlinks: DatasetGraph | None = None
        self._owner: dict[int, int] = {}  # version id -> dataset id
        self._labels: dict[Node, Tainted] = {}

    @property
    def members(self) -> Mapping[Node, set[Node]]:
        return self.inner.members

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        raise NotImplementedError("a TaintGraph is propagated over, not walked")

    def canonical(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Node]:
        return self.inner.canonical(conn, [plain(n) for n in nodes])

    def keys(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Hashable]:
        inner = self.inner.keys(conn, list({plain(n) for n in nodes}))
        return {
            node: Tainted(inner[plain(node)], node.field) if node.field else inner[node]
            for node in nodes
        }

    def node_of(self, key: Hashable) -> Node:
        if not isinstance(key, Tainted):
            return self.inner.node_of(key)
        node = self.inner.node_of(key.key)
        carried = key.carried
        label = carried if isinstance(carried, str) else f"{carried[1]}@{carried[0]!r}"
        found = node._replace(field=label)
        self._labels[found] = key
        return found

    def key_of(self, node: Node) -> Hashable:
        if not node.field:
            return self.inner.key_of(node)
        known = self._labels.get(node)
        return known if known is not None else Tainted(self.inner.key_of(plain(node)), node.field)

    def ids_by_type(self, keys: Iterable[Hashable]) -> dict[str, set[Any]]:
        inner = {key.key if isinstance(key, Tainted) else key for key in keys}
        return self.inner.ids_by_type(inner)

    def neighbours(
        self, conn: Connection, frontier: list[Hashable], direction: Direction
    ) -> Adjacency:
        if direction != "downstream":
            raise NotImplementedError("a tag travels downstream only")
        tainted = [key for key in frontier if isinstance(key, Tainted)]
        if not tainted:
            return self.inner.neighbours(conn, frontier, direction)
        plain_keys = [key for key in frontier if not isinstance(key, Tainted)]
        adjacency = self.inner.neighbours(
            conn, list(dict.fromkeys([*plain_keys, *(key.key for key in tainted)])), direction
        )
        found: dict[Hashable, Sequence[Hashable]] = {
            key: adjacency[key] for key in plain_keys if key in adjacency
        }
        node_of = self.inner.node_of
        data = [key for key in tainted if node_of(key.key).type in _DATA]
        readers = [key for key in tainted if node_of(key.key).type not in _DATA]
        if data:
            found.update(self._read(conn, data, adjacency))
        if readers:
            found.update(self._written(conn, readers, adjacency))
        return found

    def _read(
        self, conn: Connection, states: list[Tainted], adjacency: Adjacency
    ) -> dict[Hashable, list[Hashable]]:
        """(dataset, column) -> (job, (dataset representative, column)) for each reading job."""
        node_of = self.inner.node_of
        nodes = {key: node_of(key) for key in {state.key for state in states}}
        owners = self._representatives(conn, list(nodes.values()))
        # Per dataset, once: its readers, each flagged when the hop is inferred (job level).
        readers = {
            key: [
                (target, self._inferred(node, node_of(target))) for target in adjacency.get(key, ())
            ]
            for key, node in nodes.items()
        }
        found: dict[Hashable, list[Hashable]] = {}
        for state in states:
            carried = (owners[nodes[state.key]], str(state.carried))
            found[state] = [
                target if inferred else Tainted(target, carried)
                for target, inferred in readers[state.key]
            ]
        return found

    def _written(
        self, conn: Connection, states: list[Tainted], adjacency: Adjacency
    ) -> dict[Hashable, list[Hashable]]:
        """(job, (dataset, column)) -> (output, derived column) through each output's column
        lineage; an output without column lineage -> the output at job level."""
        node_of = self.inner.node_of
        jobs = {state.key for state in states}
        outputs = {node_of(t) for key in jobs for t in adjacency.get(key, ())}
        stored = {out: self.inner.members.get(out, {out}) for out in outputs}
        derived = derivations(conn, [n for found in stored.values() for n in found], self.as_of)
        sources = {ds for lineage in derived.values() for fs in lineage.values() for ds, _ in fs}
        owners = self._representatives(conn, [dataset(ds) for ds in sources])
        owner_of = {int(node.id): owner for node, owner in owners.items()}
        # Each output's column lineage inverted once: (input representative, input column) ->
        # the output columns derived from it; a state then finds its columns in one lookup.
        inverted: dict[Node, _DerivedFrom] = {}
        for node, derivation in derived.items():
            by_input: _DerivedFrom = {}
            inverted[node] = by_input
            for column, inputs in derivation.items():
                for ds, field in inputs:
                    by_input.setdefault((owner_of[ds], field), set()).add(column)
        # Per job, once: its outputs, each with the inverted column lineage it declares, or
        # None where the tag goes on at job level (no column lineage, or an inferred hop).
        plans: dict[Hashable, list[tuple[Hashable, list[_DerivedFrom] | None]]] = {}
        for key in jobs:
            job_node = node_of(key)
            plan: list[tuple[Hashable, list[_DerivedFrom] | None]] = []
            plans[key] = plan
            for target in adjacency.get(key, ()):
                out = node_of(target)
                declared = [inverted[n] for n in stored[out] if n in inverted]
                precise = bool(declared) and not self._inferred(job_node, out)
                plan.append((target, declared if precise else None))
        found: dict[Hashable, list[Hashable]] = {}
        for state in states:
            carried = state.carried
            targets: list[Hashable] = []
            for target, lineage in plans[state.key]:
                if lineage is None:
                    targets.append(target)
                    continue
                columns: set[str] = set()
                for derived_from in lineage:
                    columns.update(derived_from.get(carried, ()))  # type: ignore[arg-type]
                targets.extend(Tainted(target, column) for column in sorted(columns))
            found[state] = targets
        return found

    def _inferred(self, origin: Node, destination: Node) -> bool:
        """Whether the graph underneath inferred this hop (an ``inferred`` map of hops, in
        data-flow orientation, as ``inferred_graph`` keeps it): it declares no column lineage."""
        inferred: Mapping[tuple[Node, Node], Any] | None = getattr(self.inner, "inferred", None)
        return inferred is not None and (origin, destination) in inferred

    def _representatives(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Hashable]:
        """Dataset or version nodes -> their dataset's symlink representative (its id)."""
        versions = [
            int(n.id) for n in nodes if n.type == "version" and int(n.id) not in self._owner
        ]
        if versions:
            self._owner.update(
                fetch_in(
                    conn,
                    versions_t.c.id,
                    versions,
                    lambda cond: select(versions_t.c.id, versions_t.c.dataset_id).where(cond),
                )
            )
        ids = {n: self._owner[int(n.id)] if n.type == "version" else int(n.id) for n in nodes}
        if self._symlinks is None:
            self._symlinks = DatasetGraph(symlinks=symlinks_exist(conn))
        if not self._symlinks.symlinks:  # every dataset stands for itself
            return dict(ids)
        canon = self._symlinks.canonical(conn, [dataset(i) for i in set(ids.values())])
        return {n: canon.get(dataset(i), dataset(i)).id for n, i in ids.items()}


def plain(node: Node) -> Node:
    """The node a state belongs to (``field`` dropped)."""
    return node._replace(field="") if node.field else node


def evidence(node: Node) -> Evidence:
    """``column`` for a state (as ``TaintGraph.node_of`` hands it out) that carries a column."""
    return COLUMN if node.field else JOB
