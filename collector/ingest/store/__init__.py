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

from sqlalchemy import Connection

from mllineage.collector.ingest.store.batch import RawBatch
from mllineage.collector.ingest.store.context import IdCache, StoreContext
from mllineage.collector.ingest.store.python_fold import project_python
from mllineage.collector.ingest.store.raw_log import insert_raw
from mllineage.collector.ingest.store.sql_projection import project_postgres
from mllineage.collector.ingest.validate import ParsedEvent

__all__ = ["IdCache", "RawBatch", "StoreContext", "StoreResult", "project_batch", "store_events"]

Projector = Callable[[StoreContext, RawBatch], None]

#: How each dialect projects a batch (``project_batch``). ``project_python`` is the reference
#: both share; ``tests/collector/test_pg_projection.py`` checks the SQL program against it.
PROJECTORS: dict[str, Projector] = {"postgresql": project_postgres, "sqlite": project_python}


def project_batch(ctx: StoreContext, batch: RawBatch) -> None:
    """Project ``batch`` (events already in the raw log) on ``ctx``'s connection, not committed."""
    PROJECTORS.get(ctx.conn.dialect.name, project_python)(ctx, batch)


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
    claimed: set[bytes] = set()
    new = []
    for parsed in events:
        is_new = parsed.digest in fresh_digests and parsed.digest not in claimed
        claimed.add(parsed.digest)
        new.append(is_new)
    return StoreResult(new, ctx.learned)
