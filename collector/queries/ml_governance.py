"""Governance: every model and endpoint with a tagged dataset or column anywhere upstream.

A set query, not one traversal per model: one downstream propagation from all tagged datasets at
once (``graph.propagate``), level by level, remembering which tagged dataset reaches which node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from mllineage.collector.db.tables import tags_t
from mllineage.collector.errors import BadRequest
from mllineage.collector.queries import details
from mllineage.collector.queries.graph.propagate import Propagation, propagate
from mllineage.collector.queries.graph.taint import (
    Evidence,
    Tainted,
    TaintGraph,
    evidence,
    plain,
)
from mllineage.collector.queries.graph.walk import Edge, Node, dataset, version
from mllineage.collector.queries.graph_view import (
    FIRST_PAGE,
    Labels,
    PageRequest,
    graph_of,
    of_kinds,
)
from mllineage.collector.queries.inferred_graph import inferred_steps, mark, passes_inferred
from mllineage.collector.queries.ml_common import Options, Scope, graph_for, version_graph
from mllineage.collector.schemas.lineage import GraphView, PagedAnswer
from mllineage.collector.schemas.ml import TaggedRow

DEFAULT_KINDS = frozenset({"model", "endpoint"})
#: ``tag=pii`` matches any value of the key except these (``pii: false`` is not PII).
NEGATIVE_VALUES = frozenset({"false", "no", "0", "none", "n"})


def tagged(
    conn: Connection,
    *,
    tag: str,
    options: Options,
    scope: Scope = "current",
    page: PageRequest = FIRST_PAGE,
) -> PagedAnswer[TaggedRow]:
    """One row per (model or endpoint, tagged dataset upstream of it) with its most precise path.

    A field-scoped tag travels along column lineage where the jobs declare it: through a job that
    declares the column lineage of an output, the tagged column reaches only the output columns
    derived from it (and onward); through an output without column lineage, or an inferred edge,
    it reaches the output at job level, and from there on everything downstream. A dataset-level
    tag propagates at job level. ``evidence`` says what a row rests on: ``column`` when its path
    follows the tagged column hop by hop, else ``job``; the path shown is the shortest
    column-precise one when there is one, else the shortest (``depth`` is that path's length).

    Rows are ordered by node id, hop distance, then tagged node id; ``page`` picks the rows
    returned (``total_count`` counts them all) and only those rows' paths are computed and
    labelled, so a page costs the propagation plus work proportional to the page. The graph holds
    the page's paths.

    ``tag`` is ``key`` (any value but a negative one) or ``key:value``. ``tagged_fields`` lists the
    tagged columns of the tagged dataset that reach the node ('' stands for a dataset-level tag). ``kinds`` defaults
    to models and endpoints. ``scope`` "current" walks the current graph (or the graph as of
    ``asOf``); "versions" walks the version-pinned history instead, so every model *version*
    (and every endpoint deployment) ever built on tagged data is reported, even when the job that
    built it reads other data today.
    """
    key, has_value, value = tag.partition(":")
    if not key:
        raise BadRequest("tag must be 'key' or 'key:value'")
    query = select(tags_t.c.dataset_id, tags_t.c.field, tags_t.c.value).where(tags_t.c.key == key)
    if has_value:
        query = query.where(tags_t.c.value == value)
    found: dict[Node, tuple[set[str], set[str]]] = {}
    for dataset_id, field, tag_value in conn.execute(query):
        if not has_value and str(tag_value).strip().lower() in NEGATIVE_VALUES:
            continue
        fields, values = found.setdefault(dataset(dataset_id), (set(), set()))
        fields.add(field)
        values.add(tag_value)
    starts = [
        dataset_node._replace(field=field) if field else dataset_node
        for dataset_node, (fields, _) in found.items()
        for field in sorted(fields)
    ]
    reached = reached_downstream(conn, starts, options=options, scope=scope, page=page)
    tag_values: dict[Node, set[str]] = {}
    for origin, members in reached.members.items():
        for member in members:
            tag_values.setdefault(origin, set()).update(found[member][1])
    node_id = reached.labels.node_id
    steps = inferred_steps(reached.graph)
    rows: list[TaggedRow] = []
    for (node, hops, origin), path, said, reaching in zip(
        reached.rows, reached.paths, reached.evidence, reached.fields, strict=True
    ):
        view = reached.labels.view(node)
        rows.append(
            TaggedRow(
                node_id=node_id(node),
                namespace=view.namespace,
                name=view.name,
                kind=view.kind,
                tag_key=key,
                tag_values=sorted(tag_values[origin]),
                tagged_node_id=node_id(origin),
                tagged_fields=reaching,
                depth=hops,
                path=path,
                evidence=said,
                inferred=passes_inferred(path, steps),
            )
        )
    return PagedAnswer(rows, reached.graph, reached.truncated, reached.total)


@dataclass
class Reached:
    """One page of (consumer, hops, origin) rows found downstream of a set of datasets."""

    rows: list[tuple[Node, int, Node]]
    evidence: list[Evidence]  # "column" or "job", one per row
    fields: list[list[str]]  # the origin's tagged fields that reach the node ('': the dataset)
    paths: list[list[str]]  # node ids, origin ... consumer, one per row
    labels: Labels
    graph: GraphView
    truncated: bool
    total: int  # rows on every page
    #: canonical origin (symlinks resolved) -> the starting datasets it stands for
    members: dict[Node, list[Node]]


def reached_downstream(
    conn: Connection,
    starts: Iterable[Node],
    *,
    options: Options,
    scope: Scope,
    page: PageRequest,
) -> Reached:
    """Every node of ``options.kinds`` (default: models and endpoints) downstream of any of the
    datasets ``starts``, with the most precise shortest path per (node, origin) row: the set
    query behind ``tagged`` and ``quality``.

    A start whose ``field`` is set is that column of its dataset: it travels along column lineage
    where the jobs declare it (``graph.taint``), and a row it reaches only that way rests on
    ``column`` evidence; everything else on ``job`` evidence. A row's path is its shortest
    column-precise path when there is one, else its shortest path; ``hops`` is that path's.

    Rows are ordered by node id, hop distance, then origin id; ``page`` picks the rows returned
    (``total`` counts them all) and only those rows' paths are computed and labelled, so a page
    costs the propagation plus work proportional to the page. The graph holds the page's paths.
    ``scope`` "current" walks the current graph (or the graph as of ``asOf``); "versions" walks the
    version-pinned history from every version of the starting datasets instead, so every model
    *version* (and every endpoint deployment) ever built on them is reported.
    """
    found = list(starts)
    inner = version_graph(conn, options) if scope == "versions" else graph_for(conn, options)
    graph = TaintGraph(inner, as_of=None if scope == "versions" else options.as_of)
    bare = list(dict.fromkeys(plain(node) for node in found))
    canon = inner.canonical(conn, bare)
    members: dict[Node, list[Node]] = {}
    for node in bare:
        members.setdefault(canon.get(node, node), []).append(node)
    versions: dict[Node, list[Node]] = {}
    if scope == "versions":
        for one, of in _all_versions(conn, list(members)).items():
            versions.setdefault(of, []).append(one)
    origins: dict[Node, Node] = {}  # start -> its origin, labelled with the tagged field
    for node in found:
        origin = canon.get(plain(node), plain(node))._replace(field=node.field)
        origins[node] = origin
        for one in versions.get(plain(origin), ()):
            origins[one._replace(field=node.field)] = origin
    spread = propagate(
        graph,
        conn,
        origins,
        "downstream",
        depth=options.depth,
        max_pairs=options.max_nodes * 20,
    )
    labels = Labels(conn, ())
    kept = of_kinds(conn, spread.ids_by_type(), options.kinds or DEFAULT_KINDS, labels)
    labels.add(conn, kept)
    node_id = labels.node_id
    best = _best_states(spread, graph, kept)
    order = sorted(kept, key=node_id)
    counts = [len(best.get(node, ())) for node in order]
    chosen = _page_rows(conn, best, labels, page, order, counts)
    paths = spread.paths(conn, [(pick.state, pick.origin, pick.hops) for _, pick in chosen])
    steps = {plain(step) for path in paths for step in path}
    labels.add(conn, steps)
    shown = {step: node_id(step) for step in steps}
    edges = {Edge(plain(a), plain(b), _run_of(a, b)) for a, b in spread.steps()}
    view = graph_of(labels, shown, edges)
    mark(conn, view, labels, inner)
    return Reached(
        rows=[(node, pick.hops, plain(pick.origin)) for node, pick in chosen],
        evidence=[evidence(pick.state) for _, pick in chosen],
        fields=[sorted(pick.fields) for _, pick in chosen],
        paths=[[shown[plain(step)] for step in path] for path in paths],
        labels=labels,
        graph=view,
        truncated=spread.truncated,
        total=sum(counts),
        members=members,
    )


@dataclass
class _Pick:
    """The state shown for one (node, origin) row: the most precise (``rank`` 0: column, 1: job),
    then nearest, state reached from one of the origin's starts (``origin``: that start's label,
    with its field); ``fields``: the origin's fields (``''``: the dataset) that reach the node."""

    rank: int
    hops: int
    state: Node
    origin: Node
    fields: set[str]


def _best_states(
    spread: Propagation, graph: TaintGraph, kept: Iterable[Node]
) -> dict[Node, dict[Node, _Pick]]:
    """For each kept node: origin -> the row's ``_Pick`` (one pass over the propagation's
    levels)."""
    inner = graph.inner
    wanted = {inner.key_of(node): node for node in kept}
    best: dict[Node, dict[Node, _Pick]] = {}
    for hops, level in enumerate(spread.levels):
        for key, bits in level.items():
            is_column = isinstance(key, Tainted)
            node = wanted.get(key.key if isinstance(key, Tainted) else key)
            if node is None:
                continue
            rank = 0 if is_column else 1
            per_origin = best.setdefault(node, {})
            for bit in bits:
                labelled = spread.origins[bit]
                origin = plain(labelled)
                known = per_origin.get(origin)
                if known is None:
                    state = graph.node_of(key)
                    per_origin[origin] = _Pick(rank, hops, state, labelled, {labelled.field})
                    continue
                known.fields.add(labelled.field)
                if (rank, hops) < (known.rank, known.hops):
                    known.rank, known.hops = rank, hops
                    known.state, known.origin = graph.node_of(key), labelled
    return best


def _page_rows(
    conn: Connection,
    best: dict[Node, dict[Node, _Pick]],
    labels: Labels,
    page: PageRequest,
    order: list[Node],
    counts: list[int],
) -> list[tuple[Node, _Pick]]:
    """The page's (node, pick) rows, in row order: nodes in ``order`` (by id), each node's
    ``counts`` rows by hop distance then origin id. Only the nodes on the page are expanded and
    only their origins labelled."""
    start, end = page.offset, page.offset + page.limit
    window: list[tuple[Node, int]] = []
    position = 0
    for node, count in zip(order, counts, strict=True):
        if position >= end:
            break
        if position + count > start:
            window.append((node, position))
        position += count
    labels.add(conn, {origin for node, _ in window for origin in best[node]})
    rows: list[tuple[Node, _Pick]] = []
    for node, first in window:
        found = sorted(best[node].items(), key=lambda item: (item[1].hops, labels.node_id(item[0])))
        for index, (_, pick) in enumerate(found, start=first):
            if start <= index < end:
                rows.append((node, pick))
    return rows


def _all_versions(conn: Connection, datasets: list[Node]) -> dict[Node, Node]:
    """Every version node of these datasets -> the dataset node it stands for."""
    versions = details.dataset_versions(conn, (int(n.id) for n in datasets))
    return {version(v.id): dataset(ds) for ds, found in versions.items() for v in found}


def _run_of(origin: Node, destination: Node) -> str | None:
    for node in (origin, destination):
        if node.type == "run":
            return str(node.id)
    return None
