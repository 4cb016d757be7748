"""When a namespace was first seen *in event time*: its earliest dataset's or job's creation.

Datasets and jobs are created at the event time of their first event (``ingest/fold.py``); the
namespace row itself only records when the collector first stored something in it, which for
history loaded later says "created today". One correlated ``min`` per table and namespace, each
a single probe of the ``(namespace_id, created_at)`` indexes (migration 0006).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, ScalarSelect, Table, func, select

from mllineage.collector.db.tables import datasets_t, jobs_t, namespaces_t


def _first(table: Table) -> ScalarSelect[Any]:
    return (
        select(func.min(table.c.created_at))
        .where(table.c.namespace_id == namespaces_t.c.id)
        .scalar_subquery()
    )


def first_event_times(conn: Connection, names: Sequence[str]) -> dict[str, datetime]:
    """Earliest dataset or job ``created_at`` per namespace name (namespaces with neither: absent)."""
    if not names:
        return {}
    rows = conn.execute(
        select(namespaces_t.c.name, _first(datasets_t), _first(jobs_t)).where(
            namespaces_t.c.name.in_(names)
        )
    )
    found = {}
    for name, first_dataset, first_job in rows:
        times = [t for t in (first_dataset, first_job) if t is not None]
        if times:
            found[str(name)] = min(times)
    return found
