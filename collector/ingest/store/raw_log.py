"""The raw event log: every event stored exactly once, by content hash.

Contract: ``insert_raw`` claims each distinct digest in ``event_digests`` (``ON CONFLICT DO
NOTHING``) and stores the events whose claim won in ``lineage_events``; it returns the digests
that are new. Two transactions racing on the same event: the second waits on the first's digest
row and then finds it taken. The raw log is never updated; the graph tables are its projection.

``append_events`` is the whole ingest path: the raw rows plus one ``projection_backlog`` row per
new event, in the caller's transaction, so an acknowledged event is always either projected or
waiting in the backlog, never neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Executable, select
from sqlalchemy.dialects import postgresql

from mllineage.collector.db.tables import backlog_t, digests_t, events_t
from mllineage.collector.db.types import PreSerialized
from mllineage.collector.ingest.store.context import StoreContext
from mllineage.collector.ingest.store.dialect import recordset, rows_json
from mllineage.collector.ingest.validate import ParsedEvent
from mllineage.schemas.node_ids import normalise_run_id


def append_events(
    ctx: StoreContext, events: Sequence[ParsedEvent], received_at: datetime
) -> set[bytes]:
    """Append the new ``events`` to the raw log and the backlog; returns their digests.

    On PostgreSQL one statement (data-modifying CTEs: claim the digests, insert the raw rows of
    the claimed ones and their markers): the ingest path's whole database work is one round trip
    plus the commit. Elsewhere the three inserts run one after the other."""
    if ctx.conn.dialect.name == "postgresql":
        distinct = {parsed.digest: parsed for parsed in events}
        if not distinct:
            return set()
        rows = [event_row(distinct[d], received_at) for d in sorted(distinct)]
        statement = _append_statement(tuple(rows[0]))
        return {bytes(d) for d in ctx.conn.execute(statement, {"rows": rows_json(rows)}).scalars()}
    fresh = insert_raw(ctx, events, received_at)
    if fresh:
        rows = [{"event_hash": d, "received_at": received_at} for d in sorted(fresh)]
        ctx.rows.write(backlog_t, rows)
    return fresh


def insert_raw(
    ctx: StoreContext, events: Sequence[ParsedEvent], received_at: datetime
) -> set[bytes]:
    """Store the events not stored yet; returns their digests (see the module docstring)."""
    distinct = {parsed.digest: parsed for parsed in events}
    if not distinct:
        return set()
    claimed = ctx.rows.write(
        digests_t,
        [{"event_hash": d, "received_at": received_at} for d in sorted(distinct)],
        _claim_digests,
    )
    fresh = {bytes(row[0]) for row in claimed}
    if fresh:
        ctx.rows.write(events_t, [event_row(distinct[d], received_at) for d in sorted(fresh)])
    return fresh


@cache
def _append_statement(columns: tuple[str, ...]) -> Executable:
    staged = recordset(events_t, columns)
    source = select(*staged.c).cte("staged")
    claimed = (
        postgresql.insert(digests_t)
        .from_select(
            ["event_hash", "received_at"], select(source.c.event_hash, source.c.received_at)
        )
        .on_conflict_do_nothing(index_elements=["event_hash"])
        .returning(digests_t.c.event_hash, digests_t.c.received_at)
        .cte("claimed")
    )
    raw = (
        events_t.insert()
        .from_select(
            columns,
            select(*(source.c[c] for c in columns)).join(
                claimed, claimed.c.event_hash == source.c.event_hash
            ),
        )
        .cte("raw")
    )
    return (
        backlog_t.insert()
        .from_select(
            ["event_hash", "received_at"],
            select(claimed.c.event_hash, claimed.c.received_at).order_by(claimed.c.event_hash),
        )
        .returning(backlog_t.c.event_hash)
        .add_cte(raw)
    )


def _claim_digests(stmt: postgresql.Insert) -> Executable:
    return stmt.on_conflict_do_nothing(index_elements=["event_hash"]).returning(
        digests_t.c.event_hash
    )


def event_row(parsed: ParsedEvent, received_at: datetime) -> dict[str, Any]:
    """The ``lineage_events`` row of ``parsed``."""
    job = parsed.job
    run_id = parsed.run_id
    return {
        "event_hash": parsed.digest,
        "kind": parsed.kind,
        "event_type": parsed.event_type,
        "event_time": parsed.event_time,
        "received_at": received_at,
        "run_uuid": normalise_run_id(run_id) if run_id is not None else None,
        "job_namespace": job[0] if job is not None else None,
        "job_name": job[1] if job is not None else None,
        "producer": parsed.producer,
        "payload": PreSerialized(parsed.canonical.decode()),
        "warnings": [{"loc": w.loc, "msg": w.msg} for w in parsed.warnings] or None,
    }
