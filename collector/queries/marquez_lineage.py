"""Marquez's lineage graphs: ``/lineage`` (datasets and jobs) and ``/column-lineage`` (columns).

Both walk with ``queries.graph``: ``/lineage`` is the union of an upstream and a downstream walk
from the node (never an undirected search), ``/column-lineage`` walks column lineage upstream and,
with ``withDownstream``, downstream too. ``depth`` is hops in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as default
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select

from mllineage.collector.db.tables import column_lineage_t, job_edges_t
from mllineage.collector.queries import catalog, details
from mllineage.collector.queries.catalog import DatasetRecord, JobRecord
from mllineage.collector.queries.graph.as_of import dataset_graph
from mllineage.collector.queries.graph.columns import ColumnGraph
from mllineage.collector.queries.graph.walk import (
    DEFAULT_MAX_NODES,
    Edge,
    Node,
    column,
    dataset,
    job,
    walk,
)
from mllineage.collector.queries.graph_view import Labels
from mllineage.collector.queries.membership import fetch_in
from mllineage.collector.queries.resolve import DatasetRef, FieldRef, JobRef, resolve_node
from mllineage.schemas.node_ids import field_node_id


@dataclass
class GraphNodeRecord:
    id: str
    type: Literal["DATASET", "JOB"]
    dataset: DatasetRecord | None = None
    job: JobRecord | None = None
    in_edges: list[tuple[str, str]] = default(default_factory=list)
    out_edges: list[tuple[str, str]] = default(default_factory=list)


@dataclass(frozen=True, slots=True)
class InputFieldRecord:
    namespace: str
    dataset: str
    field: str
    transformation_description: str | None
    transformation_type: str | None


@dataclass
class ColumnNodeRecord:
    id: str
    namespace: str
    dataset: str
    field: str
    field_type: str | None
    transformation_description: str | None
    transformation_type: str | None
    input_fields: list[InputFieldRecord]
    in_edges: list[tuple[str, str]] = default(default_factory=list)
    out_edges: list[tuple[str, str]] = default(default_factory=list)


def lineage(
    conn: Connection,
    *,
    node_id: str,
    depth: int,
    as_of: datetime | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> list[GraphNodeRecord]:
    """The datasets and jobs upstream and downstream of a node, Marquez's graph shape.

    A run id starts at the run's job, a dataset version or field at its dataset.
    """
    ref = resolve_node(conn, node_id)
    start: Node
    if isinstance(ref, JobRef):
        start = job(ref.id)
    elif isinstance(ref, DatasetRef):
        start = dataset(ref.id)
    elif isinstance(ref, FieldRef):
        start = dataset(ref.dataset.id)
    else:
        start = job(ref.job.id)
    graph = dataset_graph(conn, as_of)
    walks = [
        walk(graph, conn, [start], d, depth=depth, max_nodes=max_nodes)
        for d in ("upstream", "downstream")
    ]
    nodes = {n for w in walks for n in w.depth}
    edges = {e for w in walks for e in w.edges}
    labels = Labels(conn, nodes)
    datasets = catalog.dataset_records(
        conn,
        list(details.datasets(conn, [int(n.id) for n in nodes if n.type == "dataset"]).values()),
    )
    # A node carries its job's latest run alone (``latestRuns`` holds just that one), as
    # Marquez's own lineage nodes do (``JobData.latestRun``): ten runs per job cost 10x the run
    # records on a wide graph, for a list the job's own page gives.
    jobs = catalog.job_records(
        conn,
        list(details.jobs(conn, [int(n.id) for n in nodes if n.type == "job"]).values()),
        runs_per_job=1,
    )
    records: dict[Node, GraphNodeRecord] = {}
    for record in datasets:
        node = dataset(record.info.id)
        records[node] = GraphNodeRecord(labels.node_id(node), "DATASET", dataset=record)
    for job_record in jobs:
        node = job(job_record.info.id)
        records[node] = GraphNodeRecord(labels.node_id(node), "JOB", job=job_record)
    for edge in sorted(edges):
        pair = (labels.node_id(edge.origin), labels.node_id(edge.destination))
        records[edge.origin].out_edges.append(pair)
        records[edge.destination].in_edges.append(pair)
    return sorted(records.values(), key=lambda r: r.id)


def column_lineage(
    conn: Connection,
    *,
    node_id: str,
    depth: int,
    with_downstream: bool,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> list[ColumnNodeRecord]:
    """Columns upstream (and downstream) of a column, of every column of a dataset, or of every
    column a job writes."""
    ref = resolve_node(conn, node_id)
    if isinstance(ref, FieldRef):
        starts = [column(ref.dataset.id, ref.field)]
    elif isinstance(ref, DatasetRef):
        starts = _columns_of(conn, [ref.id])
    else:
        job_id = ref.id if isinstance(ref, JobRef) else ref.job.id
        outputs = conn.execute(
            select(job_edges_t.c.dataset_id).where(
                job_edges_t.c.job_id == job_id, job_edges_t.c.direction == "out"
            )
        ).scalars()
        starts = _columns_of(conn, list(outputs))
    graph = ColumnGraph()
    directions: list[Literal["upstream", "downstream"]] = ["upstream"]
    if with_downstream:
        directions.append("downstream")
    walks = [walk(graph, conn, starts, d, depth=depth, max_nodes=max_nodes) for d in directions]
    nodes = {n for w in walks for n in w.depth}
    edges: set[Edge] = {e for w in walks for e in w.edges}
    return _column_records(conn, nodes, edges)


def _columns_of(conn: Connection, dataset_ids: list[int]) -> list[Node]:
    """Every column of these datasets: schema fields and columns with recorded lineage."""
    names: set[tuple[int, str]] = set()
    for dataset_id, facets in details.dataset_facets(conn, dataset_ids, ["schema"]).items():
        for spec in (facets.get("schema") or {}).get("fields") or []:
            if isinstance(spec, dict) and spec.get("name"):
                names.add((dataset_id, str(spec["name"])))
    cl = column_lineage_t.c
    rows = fetch_in(
        conn, cl.dataset_id, dataset_ids, lambda cond: select(cl.dataset_id, cl.field).where(cond)
    )
    names.update((ds, f) for ds, f in rows)
    return [column(ds, f) for ds, f in sorted(names)]


def _column_records(conn: Connection, nodes: set[Node], edges: set[Edge]) -> list[ColumnNodeRecord]:
    dataset_ids = {int(n.id) for n in nodes}
    cl = column_lineage_t.c
    inputs = fetch_in(
        conn,
        cl.dataset_id,
        dataset_ids,
        lambda cond: select(
            cl.dataset_id, cl.field, cl.input_dataset_id, cl.input_field, cl.transformations
        ).where(cond),
    )
    dataset_ids |= {row[2] for row in inputs}
    infos = details.datasets(conn, dataset_ids)
    facets = details.dataset_facets(conn, dataset_ids, ["schema", "columnLineage"])
    feeds: dict[Node, list[InputFieldRecord]] = {}
    for ds, f, in_ds, in_f, transformations in sorted(
        inputs, key=lambda r: (r[0], r[1], r[2], r[3])
    ):
        kind, description = _transformation(transformations)
        source = infos[in_ds]
        feeds.setdefault(column(ds, f), []).append(
            InputFieldRecord(source.namespace, source.name, in_f, description, kind)
        )
    records: dict[Node, ColumnNodeRecord] = {}
    for node in sorted(nodes):
        info = infos[int(node.id)]
        own = facets.get(info.id, {})
        spec = ((own.get("columnLineage") or {}).get("fields") or {}).get(node.field) or {}
        records[node] = ColumnNodeRecord(
            id=field_node_id(info.namespace, info.name, node.field),
            namespace=info.namespace,
            dataset=info.name,
            field=node.field,
            field_type=_field_type(own, node.field),
            transformation_description=spec.get("transformationDescription"),
            transformation_type=spec.get("transformationType"),
            input_fields=feeds.get(node, []),
        )
    for edge in sorted(edges):
        pair = (records[edge.origin].id, records[edge.destination].id)
        records[edge.origin].out_edges.append(pair)
        records[edge.destination].in_edges.append(pair)
    return list(records.values())


def _field_type(facets: details.Facets, name: str) -> str | None:
    for spec in (facets.get("schema") or {}).get("fields") or []:
        if isinstance(spec, dict) and spec.get("name") == name:
            return str(spec["type"]) if spec.get("type") is not None else None
    return None


def _transformation(transformations: Any) -> tuple[str | None, str | None]:
    """(type, description) of the first recorded transformation of an input column."""
    if isinstance(transformations, list) and transformations:
        first = transformations[0]
        if isinstance(first, dict):
            subtype = first.get("subtype")
            kind = first.get("type")
            label = f"{kind}/{subtype}" if kind and subtype else kind
            return (str(label) if label else None, first.get("description"))
    return None, None
