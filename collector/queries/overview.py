"""What a person sees first: how many nodes of each kind, the latest failed runs, and a search
over every node that answers with its kind (the web UI's front page, or any script's).
"""

from __future__ import annotations

from sqlalchemy import Connection, func, literal, or_, select, union_all

from mllineage.collector.db.facet_bodies import body_of
from mllineage.collector.db.tables import (
    datasets_t,
    jobs_t,
    namespaces_t,
    run_facets_t,
    runs_t,
)
from mllineage.collector.schemas.overview import (
    FailedRun,
    KindCount,
    NodeHit,
    NodeSearch,
    Overview,
)
from mllineage.schemas.node_ids import dataset_node_id, job_node_id

#: Runs in these states failed (``ABORT`` is a run stopped before it finished).
FAILED_STATES = ("FAIL", "ABORT")


def overview(conn: Connection, *, failed_limit: int) -> Overview:
    """Node counts per kind (``job`` included, kinds without nodes left out, sorted by kind)
    and the ``failed_limit`` most recently ended failed or aborted runs, newest first, each with
    the message of its ``errorMessage`` facet when it has one."""
    return Overview(kind_counts(conn), latest_failed_runs(conn, limit=failed_limit))


def kind_counts(conn: Connection) -> list[KindCount]:
    """Datasets counted by derived kind, plus jobs as kind ``job``."""
    by_kind = select(datasets_t.c.kind, func.count()).group_by(datasets_t.c.kind)
    counts: dict[str, int] = dict(conn.execute(by_kind).all())
    jobs = conn.execute(select(func.count()).select_from(jobs_t)).scalar_one()
    if jobs:
        counts["job"] = jobs
    return [KindCount(kind, count) for kind, count in sorted(counts.items())]


def latest_failed_runs(conn: Connection, *, limit: int) -> list[FailedRun]:
    """The ``limit`` failed runs that ended last (runs without an end time sort last)."""
    error = (
        select(body_of(run_facets_t.c.facet_digest))
        .where(run_facets_t.c.run_uuid == runs_t.c.uuid, run_facets_t.c.key == "errorMessage")
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            runs_t.c.uuid,
            namespaces_t.c.name,
            jobs_t.c.name,
            runs_t.c.state,
            runs_t.c.started_at,
            runs_t.c.ended_at,
            error,
        )
        .join(jobs_t, jobs_t.c.id == runs_t.c.job_id)
        .join(namespaces_t, namespaces_t.c.id == jobs_t.c.namespace_id)
        .where(runs_t.c.state.in_(FAILED_STATES))
        .order_by(runs_t.c.ended_at.desc().nulls_last(), runs_t.c.uuid)
        .limit(limit)
    ).all()
    return [
        FailedRun(
            run_id=uuid,
            job_node_id=job_node_id(namespace, name),
            namespace=namespace,
            job_name=name,
            state=state,
            started_at=started,
            ended_at=ended,
            error_message=_message(facet),
        )
        for uuid, namespace, name, state, started, ended, facet in rows
    ]


def _message(facet: object) -> str | None:
    message = facet.get("message") if isinstance(facet, dict) else None
    return message if isinstance(message, str) else None


def search_nodes(
    conn: Connection, *, q: str, kinds: frozenset[str] | None, limit: int, offset: int
) -> NodeSearch:
    """Datasets (with their kind) and jobs whose name or namespace contains ``q``
    (case-insensitive; ``%`` and ``_`` are wildcards, as in ``/search``), optionally only
    ``kinds``; ordered by name, then namespace and type."""
    pattern = f"%{q}%"
    parts = []
    if kinds is None or kinds - {"job"}:
        datasets = (
            select(
                literal("dataset").label("type"),
                datasets_t.c.kind.label("kind"),
                namespaces_t.c.name.label("namespace"),
                datasets_t.c.name.label("name"),
                datasets_t.c.updated_at.label("updated_at"),
            )
            .join(namespaces_t, namespaces_t.c.id == datasets_t.c.namespace_id)
            .where(or_(datasets_t.c.name.ilike(pattern), namespaces_t.c.name.ilike(pattern)))
        )
        if kinds is not None:
            datasets = datasets.where(datasets_t.c.kind.in_(sorted(kinds - {"job"})))
        parts.append(datasets)
    if kinds is None or "job" in kinds:
        parts.append(
            select(
                literal("job").label("type"),
                literal("job").label("kind"),
                namespaces_t.c.name.label("namespace"),
                jobs_t.c.name.label("name"),
                jobs_t.c.updated_at.label("updated_at"),
            )
            .join(namespaces_t, namespaces_t.c.id == jobs_t.c.namespace_id)
            .where(or_(jobs_t.c.name.ilike(pattern), namespaces_t.c.name.ilike(pattern)))
        )
    combined = union_all(*parts).subquery()
    total = conn.execute(select(func.count()).select_from(combined)).scalar_one()
    rows = conn.execute(
        select(combined)
        .order_by(combined.c.name, combined.c.namespace, combined.c.type)
        .limit(limit)
        .offset(offset)
    ).all()
    return NodeSearch(
        [
            NodeHit(
                node_id=(
                    dataset_node_id(namespace, name)
                    if type_ == "dataset"
                    else job_node_id(namespace, name)
                ),
                type=type_,
                kind=kind,
                namespace=namespace,
                name=name,
                updated_at=updated,
            )
            for type_, kind, namespace, name, updated in rows
        ],
        total,
    )
