"""Datasets and jobs as one graph's nodes, with datasets linked by a ``symlinks`` identifier merged
into one node, represented by the dataset that declares the symlink (Spark's path and the Hive
table it registers). Shared by the current and as-of graphs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection

from mllineage.collector.queries.graph.lookups import symlink_pairs
from mllineage.collector.queries.graph.walk import Node, NodeGraph, dataset


class DatasetGraph(NodeGraph):
    """Shared by the current and as-of graphs: symlinked datasets are merged into one node.

    ``symlinks``: whether the database holds any symlink (``lookups.symlinks_exist``), decided
    when the graph is built; without, every node represents itself and nothing is looked up."""

    def __init__(self, *, symlinks: bool) -> None:
        self.members: dict[Node, set[Node]] = {}
        self.symlinks = symlinks
        self._canon: dict[Node, Node] = {}

    def canonical(self, conn: Connection, nodes: Sequence[Node]) -> dict[Node, Node]:
        if not self.symlinks:
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
