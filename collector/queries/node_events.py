"""The raw OpenLineage events behind one node: the evidence a details panel shows.

- a job: its own events (by job name);
- a run: the run's events;
- a dataset: the events of the ``limit`` runs that touched it last (read or wrote it);
- a dataset version: the events of the run that produced it;
- a dataset field: those of its dataset.

Events come newest first (event time, then storage order), at most ``limit`` of them, as stored
(canonical JSON, the same payloads ``/events/lineage`` returns).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from mllineage.collector.db.tables import events_t, run_io_t, versions_t
from mllineage.collector.queries.membership import member_of
from mllineage.collector.queries.resolve import DatasetRef, FieldRef, JobRef, resolve_node


def node_events(conn: Connection, *, node_id: str, limit: int) -> list[dict[str, Any]]:
    """Events behind ``node_id`` (see the module docstring); ``NotFound`` for unknown nodes."""
    node = resolve_node(conn, node_id)
    if isinstance(node, FieldRef):
        node = node.dataset
    newest = (events_t.c.event_time.desc(), events_t.c.id.desc())
    query = select(events_t.c.payload).order_by(*newest).limit(limit)
    if isinstance(node, JobRef):
        query = query.where(
            events_t.c.job_namespace == node.namespace, events_t.c.job_name == node.name
        )
    elif isinstance(node, DatasetRef):
        runs = _dataset_runs(conn, node, limit)
        if not runs:
            return []
        query = query.where(member_of(conn, events_t.c.run_uuid, runs))
    else:
        query = query.where(events_t.c.run_uuid == node.uuid)
    return list(conn.execute(query).scalars())


def _dataset_runs(conn: Connection, dataset: DatasetRef, limit: int) -> list[str]:
    """The producing run of a version, else the ``limit`` runs that read or wrote it last."""
    if dataset.version_id is not None:
        run = conn.execute(
            select(versions_t.c.run_uuid).where(versions_t.c.id == dataset.version_id)
        ).scalar_one_or_none()
        return [run] if run else []
    return list(
        conn.execute(
            select(run_io_t.c.run_uuid)
            .where(run_io_t.c.dataset_id == dataset.id)
            .group_by(run_io_t.c.run_uuid)
            .order_by(func.max(run_io_t.c.event_time).desc(), run_io_t.c.run_uuid)
            .limit(limit)
        ).scalars()
    )
