"""Discovery questions: generic lineage, raw sources, feature groups, and models with endpoints.

Each function answers one question from a start node id, as an ``Answer`` whose rows carry their
evidence (``path``: node ids in data-flow order from source to consumer; ``run_id`` where known).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from mllineage.collector.queries import details
from mllineage.collector.queries.graph.lookups import read_versions
from mllineage.collector.queries.graph.walk import Node, Walk
from mllineage.collector.queries.graph_view import Labels, walks_graph
from mllineage.collector.queries.history import until_of
from mllineage.collector.queries.inferred_graph import marked
from mllineage.collector.queries.ml_common import (
    Directions,
    Options,
    all_nodes,
    facet_field,
    job_runs,
    reached,
    start_of,
    walks,
)
from mllineage.collector.schemas.lineage import Answer
from mllineage.collector.schemas.ml import (
    EndpointRef,
    FeatureGroupRow,
    LineageRow,
    ModelRow,
    SourceRow,
)


def lineage(
    conn: Connection, *, node_id: str, direction: Directions, options: Options
) -> Answer[LineageRow]:
    """Every node reachable from ``node_id`` in ``direction`` (rows filtered by ``kinds``)."""
    start = start_of(conn, node_id, options)
    walked = walks(conn, start, direction, options)
    labels = Labels(conn, all_nodes(walked))
    runs = job_runs(conn, start, labels)
    rows = []
    for node, one in reached(walked):
        view = labels.view(node)
        if not options.keeps(view.kind if view.type == "dataset" else "job"):
            continue
        run_id = str(node.id) if node.type == "run" else None
        if node.type == "job":
            run_id = runs.get(int(node.id))
        rows.append(
            LineageRow(
                node_id=view.id,
                type=view.type,
                namespace=view.namespace,
                name=view.name,
                kind=view.kind,
                version=view.version,
                direction=one.direction,
                depth=one.depth[node],
                run_id=run_id,
                path=labels.walk_path(one, node),
            )
        )
    answer_graph = marked(conn, walks_graph(labels, walked), labels, start.graph, rows)
    return Answer(rows, answer_graph, any(w.truncated for w in walked))


def sources(conn: Connection, *, node_id: str, options: Options) -> Answer[SourceRow]:
    """The raw sources upstream of a node: datasets with nothing but input-less jobs upstream.
    Entities (Feast's join keys, kind ``entity``) are read by feature jobs but hold no data, so
    they are never sources."""
    start = start_of(conn, node_id, options)
    [up] = walks(conn, start, "upstream", options, probe_ends=True)
    labels = Labels(conn, up.depth)
    producers: dict[Node, list[Node]] = {}
    nodes: list[Node] = []
    for edge in up.edges:
        producers.setdefault(edge.destination, []).append(edge.origin)
    rows = []
    for node in up.reached():
        if node.type not in ("dataset", "version"):
            continue
        feeding = producers.get(node, [])
        is_source = node in up.ends or (feeding and all(p in up.ends for p in feeding))
        view = labels.view(node)
        if is_source and view.kind != "entity" and options.keeps(view.kind):
            rows.append(
                SourceRow(
                    node_id=view.id,
                    namespace=view.namespace,
                    name=view.name,
                    kind=view.kind,
                    version=view.version,
                    depth=up.depth[node],
                    path=labels.walk_path(up, node),
                )
            )
            nodes.append(node)
    _set_until(conn, rows, nodes)
    answer_graph = marked(conn, walks_graph(labels, [up]), labels, start.graph, rows)
    return Answer(rows, answer_graph, up.truncated)


def feature_groups(
    conn: Connection, *, node_id: str, direction: Directions, options: Options
) -> Answer[FeatureGroupRow]:
    """Feature groups built from a node (downstream) or that it depends on (upstream)."""
    start = start_of(conn, node_id, options)
    walked = walks(conn, start, direction, options)
    labels = Labels(conn, all_nodes(walked))
    found = [(n, w) for n, w in reached(walked) if labels.kind(n) == "feature_group"]
    facets = details.dataset_facets(
        conn,
        {labels.dataset_of(n).id for n, _ in found},  # type: ignore[union-attr]
        [
            "mllineage_featureGroup",
            "feast_featureView",
            "feast_featureService",
            "schema",
            "ownership",
        ],
    )
    rows = []
    for node, one in found:
        view = labels.view(node)
        info = labels.dataset_of(node)
        own = facets.get(info.id, {}) if info else {}
        group = (
            own.get("mllineage_featureGroup")
            or own.get("feast_featureView")
            or own.get("feast_featureService")
            or {}
        )
        rows.append(
            FeatureGroupRow(
                node_id=view.id,
                namespace=view.namespace,
                name=view.name,
                feature_group=str(group.get("name") or view.name),
                feature_store=_feature_store(own),
                features=_feature_names(group) or _feature_names(own.get("schema") or {}),
                owners=details.owners(own),
                version=view.version,
                direction=one.direction,
                depth=one.depth[node],
                path=labels.walk_path(one, node),
            )
        )
    _set_until(conn, rows, [node for node, _ in found])
    answer_graph = marked(conn, walks_graph(labels, walked), labels, start.graph, rows)
    return Answer(rows, answer_graph, any(w.truncated for w in walked))


def _set_until(conn: Connection, rows: Sequence[Any], nodes: Sequence[Node]) -> None:
    """Fill each row's ``until`` (when its version, if it is one, was superseded)."""
    ends = until_of(conn, nodes)
    for row, node in zip(rows, nodes, strict=True):
        row.until = ends.get(node)


def _feature_store(facets: details.Facets) -> str | None:
    if "mllineage_featureGroup" in facets:
        store = facet_field(facets, "mllineage_featureGroup", "featureStore")
        return str(store) if store is not None else None
    feast = "feast_featureView" in facets or "feast_featureService" in facets
    return "feast" if feast else None


def _feature_names(group: dict[str, object]) -> list[str]:
    features = group.get("features") or group.get("fields") or []
    names = []
    for feature in features if isinstance(features, list) else []:
        if isinstance(feature, dict) and feature.get("name"):
            names.append(str(feature["name"]))
        elif isinstance(feature, str):
            names.append(feature)
    return names


def models(
    conn: Connection, *, node_id: str, direction: Directions, options: Options
) -> Answer[ModelRow]:
    """Models reachable from a node, with their versions and the endpoints serving them."""
    start = start_of(conn, node_id, options)
    walked = walks(conn, start, direction, options)
    labels = Labels(conn, all_nodes(walked))
    found = [(n, w) for n, w in reached(walked) if labels.kind(n) == "model"]
    model_ids = {labels.dataset_of(n).id for n, _ in found}  # type: ignore[union-attr]
    versions = details.dataset_versions(conn, model_ids, as_of=options.as_of)
    runs = job_runs(conn, start, labels)
    producing = _producing_versions(conn, runs, labels, walked)
    endpoints = _endpoints(conn, runs, labels, walked)
    facets = details.dataset_facets(conn, model_ids, ["mllineage_model"])
    rows = []
    for node, one in found:
        view = labels.view(node)
        info = labels.dataset_of(node)
        assert info is not None
        known = versions.get(info.id, [])
        current_run, current = producing.get(node, (None, None))
        if current is None and view.version is not None:
            current = view.version
        if current is None and known:
            current, current_run = known[0].version, known[0].run_uuid
        name = facet_field(facets.get(info.id), "mllineage_model", "name")
        rows.append(
            ModelRow(
                node_id=view.id,
                namespace=view.namespace,
                name=view.name,
                model_name=str(name or view.name),
                current_version=current,
                versions=[v.version for v in known],
                run_id=current_run,
                endpoints=endpoints.get(node, []),
                depth=one.depth[node],
                path=labels.walk_path(one, node),
            )
        )
    _set_until(conn, rows, [node for node, _ in found])
    answer_graph = marked(conn, walks_graph(labels, walked), labels, start.graph, rows)
    return Answer(rows, answer_graph, any(w.truncated for w in walked))


def _producing_versions(
    conn: Connection, runs: dict[int, str | None], labels: Labels, walked: list[Walk]
) -> dict[Node, tuple[str | None, str | None]]:
    """Per dataset node: (run, version) of the walked run that wrote it, where known."""
    writers: dict[Node, str] = {}
    for one in walked:
        for edge in one.edges:
            if edge.origin.type == "run":
                writers.setdefault(edge.destination, str(edge.origin.id))
            elif edge.origin.type == "job" and edge.destination.type == "dataset":
                run_uuid = edge.run or runs.get(int(edge.origin.id))
                if run_uuid is not None:
                    writers.setdefault(edge.destination, run_uuid)
    produced = details.run_output_versions(conn, set(writers.values()))
    found: dict[Node, tuple[str | None, str | None]] = {}
    for node, run_uuid in writers.items():
        if node.type == "version":
            found[node] = (run_uuid, labels.version_of(node))
        elif node.type == "dataset":
            found[node] = (run_uuid, produced.get((run_uuid, int(node.id))))
    return found


def _endpoints(
    conn: Connection, runs: dict[int, str | None], labels: Labels, walked: list[Walk]
) -> dict[Node, list[EndpointRef]]:
    """Per model node: the endpoints one deployment away (model -> job or run -> endpoint), with
    the model version each serves: the version the walked deployment run read (so ``asOf`` and
    pinned answers stay historical), else the endpoint's ``mllineage_endpoint.modelVersion``."""
    consumers: dict[Node, set[Node]] = {}
    outputs: dict[Node, set[Node]] = {}
    for one in walked:
        for edge in one.edges:
            if edge.destination.type in ("job", "run"):
                consumers.setdefault(edge.origin, set()).add(edge.destination)
            else:
                outputs.setdefault(edge.origin, set()).add(edge.destination)
    served: dict[Node, set[tuple[Node, str | None]]] = {}
    for model, deployers in consumers.items():
        if labels.kind(model) != "model":
            continue
        for deployer in deployers:
            run_uuid = str(deployer.id) if deployer.type == "run" else runs.get(int(deployer.id))
            for target in outputs.get(deployer, ()):
                if labels.kind(target) == "endpoint":
                    served.setdefault(model, set()).add((target, run_uuid))
    read = _read_versions(conn, {r for pairs in served.values() for _, r in pairs if r})
    endpoint_ids = {labels.dataset_of(e).id for pairs in served.values() for e, _ in pairs}  # type: ignore[union-attr]
    facets = details.dataset_facets(conn, endpoint_ids, ["mllineage_endpoint"])
    ends = until_of(conn, {target for pairs in served.values() for target, _ in pairs})
    result: dict[Node, list[EndpointRef]] = {}
    for model, pairs in served.items():
        model_info = labels.dataset_of(model)
        refs = []
        for target, run_uuid in pairs:
            view = labels.view(target)
            info = labels.dataset_of(target)
            facet = facets.get(info.id, {}).get("mllineage_endpoint", {}) if info else {}
            model_version = read.get((run_uuid, model_info.id)) if run_uuid and model_info else None
            if model_version is None:
                model_version = facet.get("modelVersion")
            refs.append(
                EndpointRef(
                    node_id=view.id,
                    name=str(facet.get("name") or view.name),
                    model_version=str(model_version) if model_version is not None else None,
                    status=str(facet["status"]) if facet.get("status") is not None else None,
                    until=ends.get(target),
                )
            )
        unique = {(r.node_id, r.model_version): r for r in refs}
        result[model] = [unique[key] for key in sorted(unique, key=lambda k: (k[0], k[1] or ""))]
    return result


def _read_versions(conn: Connection, run_uuids: set[str]) -> dict[tuple[str, int], str]:
    """(run, dataset) -> the version string each run read."""
    pairs = read_versions(conn, sorted(run_uuids))
    infos = details.versions(conn, {int(n.id) for _, n in pairs if n.type == "version"})
    return {
        (run_uuid, infos[int(n.id)].dataset_id): infos[int(n.id)].version
        for run_uuid, n in pairs
        if n.type == "version" and int(n.id) in infos
    }
