"""Version-pinned questions about one model version: its whole chain, and its audit record.

Both start from the version (``version`` parameter, else a ``#version`` suffix on the node id,
else the newest version), use the run that produced it and the exact versions that run read, never
what the job reads today. The chain follows the edges inferred from orchestration too, unless
``edges=declared``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from mllineage.collector.db.tables import events_t, versions_t
from mllineage.collector.errors import BadRequest, NotFound
from mllineage.collector.queries import details
from mllineage.collector.queries.graph.lookups import (
    producing_runs,
    read_versions,
    written_versions,
)
from mllineage.collector.queries.graph.walk import Edge, Node, run, version, walk
from mllineage.collector.queries.graph_view import Labels, graph_of, walks_graph
from mllineage.collector.queries.inferred_graph import marked
from mllineage.collector.queries.ml_common import Options, reached, version_graph
from mllineage.collector.queries.resolve import (
    DatasetRef,
    FieldRef,
    resolve_node,
)
from mllineage.collector.schemas.lineage import Answer
from mllineage.collector.schemas.ml import AuditEvent, AuditRow, ChainRow, VersionRef
from mllineage.schemas.node_ids import job_node_id


def pinned_version(conn: Connection, node_id: str, version_name: str | None) -> DatasetRef:
    """The dataset version a question is about (explicit, from the id, else the newest)."""
    ref = resolve_node(conn, node_id)
    if isinstance(ref, FieldRef):
        ref = ref.dataset
    if not isinstance(ref, DatasetRef):
        raise BadRequest(f"{node_id} is not a dataset or model node")
    if version_name is not None:
        named = conn.execute(
            select(versions_t.c.id).where(
                versions_t.c.dataset_id == ref.id, versions_t.c.version == version_name
            )
        ).first()
        if named is None:
            raise NotFound(
                f"no version {version_name!r} of dataset {ref.name!r} in namespace {ref.namespace!r}"
            )
        return DatasetRef(ref.id, ref.namespace, ref.name, version_name, named[0])
    if ref.version_id is not None:
        return ref
    newest = conn.execute(
        select(versions_t.c.id, versions_t.c.version)
        .where(versions_t.c.dataset_id == ref.id)
        .order_by(versions_t.c.created_at.desc(), versions_t.c.id.desc())
        .limit(1)
    ).first()
    if newest is None:
        raise NotFound(f"{node_id} has no recorded versions")
    return DatasetRef(ref.id, ref.namespace, ref.name, newest[1], newest[0])


def model_lineage(
    conn: Connection, *, node_id: str, version_name: str | None, options: Options
) -> Answer[ChainRow]:
    """The chain of one version: upstream through the producing run and the exact input versions
    (to the raw sources), downstream through the runs that read exactly this version (to the
    endpoints). The version itself is the first row (``direction`` 'self'). With ``edges=all``
    the chain also crosses the runs' inferred edges (``inferred_graph.InferredVersionGraph``),
    marked in the graph and on the rows whose path takes one."""
    ref = pinned_version(conn, node_id, version_name)
    assert ref.version_id is not None
    start = version(ref.version_id)
    graph = version_graph(conn, options)
    walked = [
        walk(graph, conn, [start], d, depth=options.depth, max_nodes=options.max_nodes)
        for d in ("upstream", "downstream")
    ]
    labels = Labels(conn, {n for one in walked for n in one.depth})
    runs = labels.runs
    rows = []
    for node, one in [(start, walked[0]), *reached(walked)]:
        view = labels.view(node)
        kind = "job" if node.type == "run" else view.kind
        if node != start and not options.keeps(kind):
            continue
        info = labels.versions.get(int(node.id)) if node.type == "version" else None
        run_uuid = str(node.id) if node.type == "run" else (info.run_uuid if info else None)
        job = labels.job_of(node)
        run_info = runs.get(run_uuid) if run_uuid else None
        rows.append(
            ChainRow(
                node_id=view.id,
                type=view.type,
                namespace=view.namespace,
                name=view.name,
                kind=view.kind,
                version=view.version,
                run_id=run_uuid,
                job_node_id=job_node_id(job.namespace, job.name) if job else None,
                run_state=run_info.state if run_info else None,
                direction="self" if node == start else one.direction,
                depth=one.depth[node],
                path=labels.walk_path(one, node),
            )
        )
    answer_graph = marked(conn, walks_graph(labels, walked), labels, graph, rows)
    return Answer(rows, answer_graph, any(w.truncated for w in walked))


def audit(conn: Connection, *, node_id: str, version_name: str | None) -> Answer[AuditRow]:
    """The audit record of one version: producing run, its exact input versions, code location,
    parameters, metrics, owners and the run's raw events (oldest first)."""
    ref = pinned_version(conn, node_id, version_name)
    assert ref.version_id is not None
    start = version(ref.version_id)
    produced = dict(producing_runs(conn, [ref.version_id]))
    run_uuid = produced.get(ref.version_id)
    inputs = read_versions(conn, [run_uuid]) if run_uuid else []
    outputs = written_versions(conn, [run_uuid]) if run_uuid else []
    nodes = {start, *(n for _, n in inputs), *(n for _, n in outputs)}
    if run_uuid:
        nodes.add(run(run_uuid))
    labels = Labels(conn, nodes)
    info = details.versions(conn, [ref.version_id])[ref.version_id]
    dataset_info = labels.datasets[info.dataset_id]  # namespace, name, kind
    run_info = labels.runs.get(run_uuid) if run_uuid else None
    job = labels.jobs.get(run_info.job_id) if run_info else None
    events = _events(conn, run_uuid) if run_uuid else []
    job_facets = details.reported_job_facets(e.payload for e in events)
    if job is not None and not job_facets:
        job_facets = details.job_facets(conn, [job.id]).get(job.id, {})
    run_facets = details.run_facets(conn, [run_uuid]).get(run_uuid, {}) if run_uuid else {}
    dataset_facets = details.dataset_facets(conn, [dataset_info.id], ["ownership"])
    model = info.facets.get("mllineage_model") or {}
    training = run_facets.get("mllineage_training") or {}
    owners = details.owners(job_facets) + details.owners(
        info.facets if "ownership" in info.facets else dataset_facets.get(dataset_info.id)
    )
    row = AuditRow(
        node_id=labels.node_id(start),
        namespace=dataset_info.namespace,
        name=dataset_info.name,
        kind=dataset_info.kind,
        version=info.version,
        created_at=info.created_at,
        run_id=run_uuid,
        run_state=run_info.state if run_info else None,
        started_at=run_info.started_at if run_info else None,
        ended_at=run_info.ended_at if run_info else None,
        job_node_id=job_node_id(job.namespace, job.name) if job else None,
        parent_run_id=run_info.parent_run_uuid if run_info else None,
        code_location=_without_base(job_facets.get("sourceCodeLocation")),
        parameters={
            **_dict(model.get("hyperparameters")),
            **_dict(training.get("hyperparameters")),
        },
        metrics={**_dict(model.get("metrics")), **_dict(training.get("metrics"))},
        owners=list(dict.fromkeys(owners)),
        inputs=[_version_ref(labels, n) for _, n in inputs],
        outputs=[_version_ref(labels, n) for _, n in outputs],
        events=events,
    )
    edges: set[Edge] = set()
    if run_uuid:
        edges = {Edge(n, run(run_uuid), run_uuid) for _, n in inputs}
        edges |= {Edge(run(run_uuid), n, run_uuid) for _, n in outputs}
    return Answer([row], graph_of(labels, nodes, edges), False)


def _version_ref(labels: Labels, node: Node) -> VersionRef:
    view = labels.view(node)
    info = labels.versions.get(int(node.id)) if node.type == "version" else None
    return VersionRef(
        node_id=view.id,
        namespace=view.namespace,
        name=view.name,
        kind=view.kind,
        version=view.version,
        created_at=info.created_at if info else None,
        producing_run_id=info.run_uuid if info else None,
    )


def _events(conn: Connection, run_uuid: str) -> list[AuditEvent]:
    rows = conn.execute(
        select(
            events_t.c.event_type, events_t.c.event_time, events_t.c.producer, events_t.c.payload
        )
        .where(events_t.c.run_uuid == run_uuid)
        .order_by(events_t.c.event_time, events_t.c.id)
    )
    return [AuditEvent(*row) for row in rows]


def _without_base(facet: dict[str, Any] | None) -> dict[str, Any] | None:
    if not facet:
        return None
    return {k: v for k, v in facet.items() if not k.startswith("_")}


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
