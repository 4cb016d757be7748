"""Store validated events: raw log + graph projection, inside the caller's transaction.

One module per family of data, each stating its contract: ``raw_log`` (the source of truth),
``entities`` (namespaces, datasets, jobs), ``facets`` (and the tables their content derives),
``runs`` (runs, dataset versions, run I/O), ``edges`` (a job's current run and edges) and
``dialect`` (how row sets reach PostgreSQL or SQLite). ``python_fold`` composes them into the
projection of a ``RawBatch``; on PostgreSQL ``sql_projection`` hands large batches to the
in-database SQL program instead (same graph).

Entry points, neither of which commits (the caller owns the transaction):

- ``project_batch(ctx, batch)``: project a batch of raw-log events inside this transaction. The
  one seam between "what is stored" and "how it is projected", dispatched on the dialect, so a
  database may project set-based in SQL while another keeps the Python fold.
- ``store_events``: raw log + projection of a batch of freshly validated events (always the
  Python fold: the reference the SQL program is tested against).

Every write is an idempotent, set-based upsert (``INSERT ... ON CONFLICT``) whose ``WHERE``
clause keeps the newest value by event time, so duplicates, retries and out-of-order events
converge to the same graph. Events already stored (same content hash) change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from mllineage.collector.db.tables import events_t
from mllineage.collector.ingest.inferred import derive_inferred_edges
from mllineage.collector.ingest.store.batch import RawBatch
from mllineage.collector.ingest.store.context import IdCache, StoreContext
from mllineage.collector.ingest.store.python_fold import project_python
from mllineage.collector.ingest.store.raw_log import insert_raw
from mllineage.collector.ingest.store.sql_projection import project_postgres
from mllineage.collector.ingest.validate import ParsedEvent

__all__ = [
    "IdCache",
    "RawBatch",
    "StoreContext",
    "StoreResult",
    "derive_after_projection",
    "project_batch",
    "store_events",
]

Projector = Callable[[StoreContext, RawBatch], None]
_CHUNK = 400

#: How each dialect projects a batch (``project_batch``). ``project_python`` is the reference
#: both share; ``tests/collector/test_pg_projection.py`` checks the SQL program against it.
PROJECTORS: dict[str, Projector] = {"postgresql": project_postgres, "sqlite": project_python}


def project_batch(ctx: StoreContext, batch: RawBatch) -> None:
    """Project ``batch`` (events already in the raw log) on ``ctx``'s connection, not committed,
    then re-derive the edges inferred from orchestration for the runs it touched
    (``ingest.inferred``: set-based over the projected rows, whichever projector ran)."""
    PROJECTORS.get(ctx.conn.dialect.name, project_python)(ctx, batch)
    derive_after_projection(ctx.conn, batch.digests)


def derive_after_projection(conn: Connection, digests: Sequence[bytes]) -> None:
    """What is derived from the projected graph once a batch is in it, whichever projector
    ran: the edges inferred from orchestration for the runs of the events ``digests``."""
    derive_inferred_edges(conn, _runs_of(conn, digests))


def _runs_of(conn: Connection, digests: Sequence[bytes]) -> set[str]:
    """The runs of the batch's events, as the raw log recorded them."""
    runs: set[str] = set()
    for start in range(0, len(digests), _CHUNK):
        chunk = digests[start : start + _CHUNK]
        query = select(events_t.c.run_uuid).where(
            events_t.c.event_hash.in_(chunk), events_t.c.run_uuid.is_not(None)
        )
        runs.update(conn.execute(query).scalars())
    return runs


@dataclass(frozen=True, slots=True)
class StoreResult:
    """Per input event, in order: True if it was new, False if already stored (duplicate).

    ``learned``: ids this transaction found or created, for ``IdCache.merge`` after commit.
    """

    new: list[bool]
    learned: IdCache


def store_events(
    conn: Connection,
    events: Sequence[ParsedEvent],
    *,
    received_at: datetime,
    ids: IdCache | None = None,
) -> StoreResult:
    """Write ``events`` (raw + projection) on ``conn`` without committing."""
    ctx = StoreContext.open(conn, ids)
    fresh_digests = insert_raw(ctx, events, received_at)
    fresh = {p.digest: p for p in events if p.digest in fresh_digests}
    if fresh:
        project_python(ctx, RawBatch.of(fresh, received_at))
        derive_after_projection(conn, sorted(fresh))
    claimed: set[bytes] = set()
    new = []
    for parsed in events:
        is_new = parsed.digest in fresh_digests and parsed.digest not in claimed
        claimed.add(parsed.digest)
        new.append(is_new)
    return StoreResult(new, ctx.learned)
