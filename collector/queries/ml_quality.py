"""Quality governance: the models and endpoints downstream of datasets whose checks fail.

A set query like ``tagged``: the datasets whose latest assertions (``queries/quality.py``) have
the asked status are the origins of one downstream propagation; each row is a (model or
endpoint, checked dataset upstream of it) pair with the failing assertions and one shortest path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from sqlalchemy import Connection

from mllineage.collector.queries.graph.walk import Node, dataset
from mllineage.collector.queries.graph_view import FIRST_PAGE, PageRequest
from mllineage.collector.queries.inferred_graph import inferred_steps, passes_inferred
from mllineage.collector.queries.ml_common import Options, Scope
from mllineage.collector.queries.ml_governance import reached_downstream
from mllineage.collector.queries.quality import Checks, latest_checks
from mllineage.collector.schemas.lineage import PagedAnswer
from mllineage.collector.schemas.ml import QualityRow

#: ``failed``: a failing assertion; ``warning``: failing ``severity: warn`` assertions only.
Wanted = Literal["failed", "warning"]


def quality(
    conn: Connection,
    *,
    status: Wanted = "failed",
    options: Options,
    scope: Scope = "current",
    page: PageRequest = FIRST_PAGE,
) -> PagedAnswer[QualityRow]:
    """One row per (model or endpoint, checked dataset upstream of it) whose latest assertions
    have ``status`` (``warning`` includes ``failed``: every dataset whose checks did not all
    pass), ordered and paged as ``tagged`` (node id, hops, checked node id).

    ``failing_assertions`` are the assertions of the dataset's latest check that did not pass;
    ``checked_at`` / ``checked_by_run_id`` / ``placement`` say which event they come from.
    ``scope`` as in ``tagged``: "current" walks the current graph (or ``asOf``), "versions"
    every model version and deployment ever built downstream.
    """
    statuses = {"failed"} if status == "failed" else {"failed", "warning"}
    checks: dict[Node, Checks] = {
        dataset(dataset_id): found
        for dataset_id, found in latest_checks(conn).items()
        if found.status in statuses
    }
    reached = reached_downstream(conn, checks, options=options, scope=scope, page=page)
    node_id = reached.labels.node_id
    steps = inferred_steps(reached.graph)
    rows: list[QualityRow] = []
    for (node, hops, origin), path in zip(reached.rows, reached.paths, strict=True):
        view = reached.labels.view(node)
        checked = _worst(checks[member] for member in reached.members[origin])
        rows.append(
            QualityRow(
                node_id=node_id(node),
                namespace=view.namespace,
                name=view.name,
                kind=view.kind,
                checked_node_id=node_id(origin),
                status=checked.status,
                failing_assertions=checked.failing,
                checked_at=checked.evidence.event_time,
                checked_by_run_id=checked.evidence.run_uuid,
                placement=checked.evidence.placement,
                depth=hops,
                path=path,
                inferred=passes_inferred(path, steps),
            )
        )
    return PagedAnswer(rows, reached.graph, reached.truncated, reached.total)


def _worst(found: Iterable[Checks]) -> Checks:
    """Of the checks of datasets standing for one node (symlinks): a failed one if any."""
    return max(found, key=lambda c: (c.status == "failed", c.evidence.event_time))
