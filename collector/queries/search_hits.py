"""Marquez's v2beta search (its web UI's search box): jobs or datasets whose name or namespace
contains the query, each with its facets and its latest run, and what matched.

Marquez answers these from OpenSearch documents built from events; ours come from the projected
graph: a job's current facets and its latest run (id, state as an OpenLineage event type, run
facets); a dataset's current facets and the latest run that wrote it. The query is a plain
case-insensitive substring (``%`` and ``_`` match themselves); most recently updated first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, or_, select

from mllineage.collector.db.tables import datasets_t, jobs_t, namespaces_t
from mllineage.collector.queries import details

Facets = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Hit:
    name: str
    namespace: str
    run_id: str | None
    event_type: str | None
    facets: Facets
    run_facets: Facets = field(default_factory=dict)
    highlights: dict[str, list[str]] = field(default_factory=dict)


def _pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _highlights(q: str, name: str, namespace: str) -> dict[str, list[str]]:
    """Each matching field with the match wrapped in ``<em>``, as OpenSearch highlights do."""
    found = re.compile(re.escape(q), re.IGNORECASE)
    return {
        key: [found.sub(lambda m: f"<em>{m.group(0)}</em>", value)]
        for key, value in (("name", name), ("namespace", namespace))
        if found.search(value)
    }


def search_hits(
    conn: Connection, kind: Literal["jobs", "datasets"], q: str, *, limit: int
) -> list[Hit]:
    table = jobs_t if kind == "jobs" else datasets_t
    pattern = _pattern(q)
    rows = conn.execute(
        select(table.c.id, table.c.name, namespaces_t.c.name)
        .join(namespaces_t, namespaces_t.c.id == table.c.namespace_id)
        .where(
            or_(
                table.c.name.ilike(pattern, escape="\\"),
                namespaces_t.c.name.ilike(pattern, escape="\\"),
            )
        )
        .order_by(table.c.updated_at.desc(), table.c.id)
        .limit(limit)
    ).all()
    ids = [row[0] for row in rows]
    if kind == "jobs":
        facets = details.job_facets(conn, ids)
        runs = details.latest_job_runs(conn, ids)
    else:
        facets = details.dataset_facets(conn, ids)
        runs = details.latest_writer_runs(conn, ids)
    run_facets = (
        details.run_facets(conn, [run.uuid for run in runs.values()]) if kind == "jobs" else {}
    )
    hits = []
    for item_id, name, namespace in rows:
        run = runs.get(item_id)
        hits.append(
            Hit(
                name=name,
                namespace=namespace,
                run_id=run.uuid if run else None,
                event_type=run.state if run else None,
                facets=facets.get(item_id, {}),
                run_facets=run_facets.get(run.uuid, {}) if run else {},
                highlights=_highlights(q, name, namespace),
            )
        )
    return hits
