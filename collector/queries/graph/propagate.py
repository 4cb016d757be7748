"""Multi-origin propagation: one walk from many origins at once (``propagate``), remembering which
origins reach which node; the same contract as ``walk``."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from mllineage.collector.queries.graph.walk import (
    DEFAULT_MAX_NODES,
    Adjacency,
    Direction,
    Graph,
    Node,
)

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
