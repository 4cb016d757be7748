"""Feature lineage: the source columns behind a feature, and the models that consume it.

Upstream follows ``columnLineage`` (column -> input columns) to the source columns. A model
consumes the feature when (a) it lies downstream of a dataset holding a column derived from the
feature (evidence ``column_lineage``: e.g. a training set column), or (b) it lies downstream of the
feature's own dataset and lists the feature in ``mllineage_model.features`` (evidence
``model_features``). ``asOf`` applies to both parts: column lineage then comes from the
``columnLineage`` facets of the dataset versions current at that time.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import Connection, select

from mllineage.collector.db.tables import column_lineage_t
from mllineage.collector.errors import BadRequest
from mllineage.collector.queries import details
from mllineage.collector.queries.graph.columns import ColumnGraph
from mllineage.collector.queries.graph.walk import Edge, Node, Walk, column, dataset, walk
from mllineage.collector.queries.graph_view import Labels, graph_of
from mllineage.collector.queries.membership import fetch_in
from mllineage.collector.queries.ml_common import Options, facet_field, graph_for
from mllineage.collector.queries.resolve import FieldRef, resolve_node
from mllineage.collector.schemas.lineage import Answer
from mllineage.collector.schemas.ml import FeatureLineageRow

DEFAULT_KINDS = frozenset({"model"})


def feature_lineage(
    conn: Connection, *, node_id: str, options: Options
) -> Answer[FeatureLineageRow]:
    """Rows: the feature itself, its upstream columns (``source`` when nothing feeds them,
    else ``upstream``), derived columns (``downstream``), and consuming models (``consumer``)."""
    ref = resolve_node(conn, node_id)
    if not isinstance(ref, FieldRef):
        raise BadRequest(
            "feature-lineage expects a datasetField:<namespace>:<dataset>:<field> node"
        )
    feature = column(ref.dataset.id, ref.field)
    columns = ColumnGraph(options.as_of)
    up = walk(
        columns,
        conn,
        [feature],
        "upstream",
        depth=options.depth,
        max_nodes=options.max_nodes,
        probe_ends=True,
    )
    down = walk(
        columns, conn, [feature], "downstream", depth=options.depth, max_nodes=options.max_nodes
    )
    consumers, dataset_walks = _consumers(conn, ref, down, options)
    nodes = set(up.depth) | set(down.depth) | {n for w in dataset_walks for n in w.depth}
    labels = Labels(conn, nodes)
    transformations = _transformations(conn, up.edges | down.edges)
    rows = [_column_row(labels, "feature", feature, 0, [feature], [])]
    for node in up.reached():
        path = up.path(node)
        role = "source" if node in up.ends else "upstream"
        rows.append(
            _column_row(
                labels, role, node, up.depth[node], path, transformations.get((node, path[1]), [])
            )
        )
    for node in down.reached():
        path = down.path(node)
        rows.append(
            _column_row(
                labels,
                "downstream",
                node,
                down.depth[node],
                path,
                transformations.get((path[-2], node), []),
            )
        )
    kinds = options.kinds or DEFAULT_KINDS
    paths: list[list[Node]] = []
    for model, (evidence, path, hops) in sorted(consumers.items()):
        view = labels.view(model)
        if view.kind not in kinds:
            continue
        paths.append(path)
        rows.append(
            FeatureLineageRow(
                role="consumer",
                node_id=view.id,
                namespace=view.namespace,
                dataset=view.name,
                field=None,
                kind=view.kind,
                depth=hops,
                transformations=[],
                evidence=evidence,
                path=labels.path(path),
            )
        )
    edges = set(up.edges) | set(down.edges)
    for path in paths:
        edges.update(Edge(a, b) for a, b in itertools.pairwise(path))
    graph_nodes = set(up.depth) | set(down.depth) | {n for p in paths for n in p}
    truncated = up.truncated or down.truncated or any(w.truncated for w in dataset_walks)
    return Answer(rows, graph_of(labels, graph_nodes, edges), truncated)


def _column_row(
    labels: Labels,
    role: str,
    node: Node,
    depth: int,
    path: list[Node],
    transformations: list[dict[str, Any]],
) -> FeatureLineageRow:
    view = labels.view(node)
    return FeatureLineageRow(
        role=role,
        node_id=view.id,
        namespace=view.namespace,
        dataset=view.name,
        field=node.field,
        kind=view.kind,
        depth=depth,
        transformations=transformations,
        evidence="column_lineage" if role != "feature" else None,
        path=labels.path(path),
    )


def _consumers(
    conn: Connection, ref: FieldRef, down: Walk, options: Options
) -> tuple[dict[Node, tuple[str, list[Node], int]], list[Walk]]:
    """model node -> (evidence, path from the feature, hops)."""
    graph = graph_for(conn, options)
    home = dataset(ref.dataset.id)
    carriers: dict[Node, Node] = {}  # carrier dataset -> nearest derived column in it
    for node in down.reached():
        carrier = dataset(int(node.id))
        if carrier != home:
            carriers.setdefault(carrier, node)
    found: dict[Node, tuple[str, list[Node], int]] = {}
    walks: list[Walk] = []
    if carriers:
        derived = walk(
            graph,
            conn,
            list(carriers),
            "downstream",
            depth=options.depth,
            max_nodes=options.max_nodes,
        )
        walks.append(derived)
        kinds = details.datasets(conn, (int(n.id) for n in derived.depth if n.type == "dataset"))
        for node in derived.depth:
            if node.type == "dataset" and kinds[int(node.id)].kind == "model":
                path = derived.path(node)
                via_column = carriers.get(path[0])
                column_path = down.path(via_column) if via_column else []
                found[node] = (
                    "column_lineage",
                    column_path + path,
                    len(column_path) - 1 + derived.depth[node],
                )
    direct = walk(
        graph, conn, [home], "downstream", depth=options.depth, max_nodes=options.max_nodes
    )
    walks.append(direct)
    model_ids = [int(n.id) for n in direct.reached() if n.type == "dataset"]
    facets = details.dataset_facets(conn, model_ids, ["mllineage_model"])
    feature_start = column(ref.dataset.id, ref.field)
    for node in direct.reached():
        if node in found or node.type != "dataset":
            continue
        listed = facet_field(facets.get(int(node.id)), "mllineage_model", "features") or []
        if ref.field in [str(f.get("name") if isinstance(f, dict) else f) for f in listed]:
            found[node] = (
                "model_features",
                [feature_start, *direct.path(node)],
                direct.depth[node] + 1,
            )
    return found, walks


def _transformations(
    conn: Connection, edges: set[Edge]
) -> dict[tuple[Node, Node], list[dict[str, Any]]]:
    """(input column, output column) -> transformations recorded on that column-lineage edge."""
    outputs = {int(e.destination.id) for e in edges}
    cl = column_lineage_t.c
    rows = fetch_in(
        conn,
        cl.dataset_id,
        outputs,
        lambda cond: select(
            cl.dataset_id, cl.field, cl.input_dataset_id, cl.input_field, cl.transformations
        ).where(cond),
    )
    return {
        (column(in_ds, in_f), column(ds, f)): list(t) if isinstance(t, list) else []
        for ds, f, in_ds, in_f, t in rows
    }
