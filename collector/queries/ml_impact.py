"""Impact analysis: everything downstream of a node, grouped by kind, with owners and last run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from mllineage.collector.queries import details, quality
from mllineage.collector.queries.graph.walk import Node, Walk
from mllineage.collector.queries.graph_view import FIRST_PAGE, Labels, PageRequest, graph_of
from mllineage.collector.queries.history import until_of
from mllineage.collector.queries.inferred_graph import marked
from mllineage.collector.queries.ml_common import (
    KINDS,
    Options,
    all_nodes,
    job_runs,
    reached,
    start_of,
    walks,
)
from mllineage.collector.schemas.lineage import PagedAnswer
from mllineage.collector.schemas.ml import ImpactRow, PathQuality


def impact(
    conn: Connection, *, node_id: str, options: Options, page: PageRequest = FIRST_PAGE
) -> PagedAnswer[ImpactRow]:
    """Every node downstream of ``node_id``; rows ordered by kind (datasets, feature groups,
    models, endpoints, jobs), then hop distance, then id. A job's last run is the run its edges
    come from in the walked graph (else its latest run); a dataset's is the run that wrote it on
    the walked edge.

    ``page`` picks the rows returned (``total_count`` counts them all); owners, last runs and
    paths are loaded for those rows only. The graph is the walk's nodes and edges restricted to
    the start, the page's rows and their paths (the whole walk when one page holds every row).
    ``quality`` lists the latest quality status of every checked dataset on the row's path
    (the start and the row's node included), in path order.
    """
    start = start_of(conn, node_id, options)
    walked = walks(conn, start, "downstream", options)
    labels = Labels(conn, all_nodes(walked))
    kinds: dict[Node, str] = {}
    ordered = []
    for node, one in reached(walked):
        kind = kinds[node] = _kind(labels, node)
        if options.keeps(kind):
            rank = (_KIND_ORDER.get(kind, len(KINDS)), one.depth[node], labels.node_id(node))
            ordered.append((rank, node, one))
    ordered.sort(key=lambda entry: entry[0])
    found = [(node, one) for _, node, one in ordered]
    chosen = page.of(found)
    detail = Labels(conn, [n for n, _ in chosen], owners=True)
    owners = _owners(detail, [n for n, _ in chosen])
    last_runs = _last_runs(conn, job_runs(conn, start, labels), walked, [n for n, _ in chosen])
    paths = {node: one.path(node) for node, one in chosen}
    statuses = _statuses(conn, labels, {step for path in paths.values() for step in path})
    ends = until_of(conn, paths)
    rows = []
    shown: set[Node] = {start.node}
    for node, one in chosen:
        view = labels.view(node)
        last = last_runs.get(node)
        passed = [step for step in paths[node] if step in statuses]
        rows.append(
            ImpactRow(
                view.id,
                view.type,
                view.namespace,
                view.name,
                kinds[node],
                view.version,
                one.depth[node],
                owners.get(node, []),
                last.uuid if last else None,
                last.state if last else None,
                last.at if last else None,
                labels.walk_path(one, node),
                [PathQuality(labels.node_id(step), statuses[step]) for step in passed],
                ends.get(node),
            )
        )
        shown.update(paths[node])
    edges = {edge for one in walked for edge in one.edges}
    graph = marked(conn, graph_of(labels, shown, edges), labels, start.graph, rows)
    return PagedAnswer(rows, graph, any(w.truncated for w in walked), len(found))


_KIND_ORDER = {kind: index for index, kind in enumerate(KINDS)}


def _kind(labels: Labels, node: Node) -> str:
    return "job" if node.type in ("job", "run") else labels.kind(node)


def _statuses(conn: Connection, labels: Labels, nodes: set[Node]) -> dict[Node, str]:
    """The latest quality status of each dataset (or version's dataset) among ``nodes``."""
    datasets = {node: found.id for node in nodes if (found := labels.dataset_of(node))}
    checks = quality.latest_checks(conn, set(datasets.values()))
    return {node: checks[id_].status for node, id_ in datasets.items() if id_ in checks}


def _owners(labels: Labels, nodes: list[Node]) -> dict[Node, list[str]]:
    found: dict[Node, list[str]] = {}
    for node in nodes:
        owner = labels.dataset_of(node) or labels.job_of(node)
        if owner is not None:
            found[node] = owner.owners
    return found


def _last_runs(
    conn: Connection, job_run: dict[int, str | None], walked: list[Walk], nodes: list[Node]
) -> dict[Node, details.RunSummary]:
    """A job's walked run (else its latest); a dataset's latest run among its walked writers."""
    candidates = _run_candidates(job_run, walked, nodes)
    infos = details.run_summaries(conn, {r for runs in candidates.values() for r in runs})
    result = {}
    for node, runs in candidates.items():
        known = [infos[r] for r in runs if r in infos]
        if known:
            result[node] = known[0] if len(known) == 1 else max(known, key=_recency)
    latest = details.latest_job_runs(
        conn, [int(n.id) for n in nodes if n.type == "job" and n not in result]
    )
    for node in nodes:
        if node.type == "job" and node not in result and int(node.id) in latest:
            result[node] = details.summary(latest[int(node.id)])
    return result


def _run_candidates(
    job_run: dict[int, str | None], walked: list[Walk], nodes: list[Node]
) -> dict[Node, set[str]]:
    """Per node, the runs that may be its last: a run itself, a job's walked run, the runs
    that wrote a dataset (or version) on the walked edges."""
    wanted = set(nodes)
    candidates: dict[Node, set[str]] = {}
    for node in nodes:
        if node.type == "run":
            candidates[node] = {str(node.id)}
        elif node.type == "job" and (run_uuid := job_run.get(int(node.id))):
            candidates[node] = {run_uuid}
    for one in walked:
        for edge in one.edges:
            target, origin = edge.destination, edge.origin
            if target not in wanted or target.type not in ("dataset", "version"):
                continue
            run_uuid = edge.run
            if run_uuid is None and origin.type == "run":
                run_uuid = str(origin.id)
            if run_uuid is None and origin.type == "job":
                run_uuid = job_run.get(int(origin.id))
            if run_uuid is not None:
                candidates.setdefault(target, set()).add(run_uuid)
    return candidates


def _recency(run: details.RunSummary) -> tuple[datetime, str]:
    return run.recency
