"""Named entities: namespaces, datasets and jobs, and their surrogate ids.

Contracts: a namespace, dataset or job row is created once per name and never deleted by the
projection; its ``id`` never changes, which is what lets ``IdCache`` skip lookups across
transactions. ``created_at`` is the first sighting; ``updated_at`` only moves forward (a dataset's
when an event writes it, a job's with each event). Returned id maps cover every key of the fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Executable, Table, select
from sqlalchemy.dialects import postgresql

from mllineage.collector.db.tables import datasets_t, jobs_t, namespaces_t
from mllineage.collector.ingest.fold import BatchFold, DatasetKey, JobKey
from mllineage.collector.ingest.store.context import StoreContext
from mllineage.collector.ingest.store.dialect import Clause, chunks, do_nothing_on


def ensure_namespaces(ctx: StoreContext, names: set[str], now: datetime) -> dict[str, int]:
    """Ids of ``names``, creating the missing namespaces."""
    ids = {name: ctx.known.namespaces[name] for name in names if name in ctx.known.namespaces}
    unknown = sorted(names - ids.keys())
    if not unknown:
        return ids
    ctx.rows.write(
        namespaces_t,
        [{"name": name, "created_at": now} for name in unknown],
        do_nothing_on("name"),
    )
    for chunk in chunks(unknown):
        query = select(namespaces_t.c.name, namespaces_t.c.id).where(namespaces_t.c.name.in_(chunk))
        found = dict(ctx.conn.execute(query).all())
        ids.update(found)
        ctx.learned.namespaces.update(found)
    return ids


def upsert_datasets(
    ctx: StoreContext, fold: BatchFold, ns_ids: dict[str, int]
) -> dict[DatasetKey, int]:
    """Insert new datasets, move ``updated_at`` of written ones; ids of all of them."""
    written: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    for (namespace, name), touch in sorted(fold.datasets.items()):
        row = {
            "namespace_id": ns_ids[namespace],
            "name": name,
            "kind": "dataset",
            "created_at": touch.created_at,
            "updated_at": touch.written_at or touch.created_at,
        }
        if touch.written_at:
            written.append(row)
        elif (row["namespace_id"], name) not in ctx.known.datasets:
            unknown.append(row)
    if unknown:
        ctx.rows.write(datasets_t, unknown, do_nothing_on("namespace_id", "name"))
    if written:
        ctx.rows.write(datasets_t, written, _touch_updated_at(datasets_t))
    keys = [(ns_ids[ns], name) for ns, name in fold.datasets]
    return {
        (ns, name): id_
        for (ns, name), id_ in zip(fold.datasets, _ids(ctx, datasets_t, keys), strict=True)
    }


def upsert_jobs(ctx: StoreContext, fold: BatchFold, ns_ids: dict[str, int]) -> dict[JobKey, int]:
    """Insert new jobs, move ``updated_at`` forward; ids of all of them."""
    if not fold.jobs:
        return {}
    rows = [
        {
            "namespace_id": ns_ids[namespace],
            "name": name,
            "created_at": touch.created_at,
            "updated_at": touch.updated_at,
        }
        for (namespace, name), touch in sorted(fold.jobs.items())
    ]
    ctx.rows.write(jobs_t, rows, _touch_updated_at(jobs_t))
    keys = [(ns_ids[ns], name) for ns, name in fold.jobs]
    return {
        (ns, name): id_ for (ns, name), id_ in zip(fold.jobs, _ids(ctx, jobs_t, keys), strict=True)
    }


def _ids(ctx: StoreContext, table: Table, keys: Sequence[tuple[int, str]]) -> list[int]:
    """Ids of (namespace_id, name) ``keys`` of ``table`` (datasets or jobs), via the cache."""
    known = ctx.known.datasets if table is datasets_t else ctx.known.jobs
    learned = ctx.learned.datasets if table is datasets_t else ctx.learned.jobs
    missing = [key for key in keys if key not in known]
    if missing:
        learned.update(ctx.rows.lookup_ids(table, ("namespace_id", "name"), missing))
    return [known.get(key) or learned[key] for key in keys]


@cache
def _touch_updated_at(table: Table) -> Clause:
    """Upsert that only moves ``updated_at`` forward."""

    def clause(stmt: postgresql.Insert) -> Executable:
        return stmt.on_conflict_do_update(
            index_elements=["namespace_id", "name"],
            set_={"updated_at": stmt.excluded.updated_at},
            where=stmt.excluded.updated_at > table.c.updated_at,
        )

    return clause
