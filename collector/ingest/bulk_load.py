"""The load phase of ``mllineage import``: validated batches appended to the raw log.

Contract of ``BulkLoader.append(events)``: one committed transaction appends the batch's new
events to the raw log and the projection backlog (events already in the log are skipped, as over
HTTP) and returns, per event, True if it was new and False if it was a duplicate (of a stored
event or of an earlier one in the batch). On PostgreSQL the rows travel by ``COPY`` into a
staging table and one statement appends them (``store.raw_copy``); SQLite keeps the ingest
path's executemany (``store.raw_log.append_events``). Either way no graph table is touched: the
projector takes the backlog. A transaction that collides with a concurrent one (deadlock,
serialization failure) is retried; an unreachable database raises ``DatabaseUnavailable``; any
other failure propagates, the batch rolled back whole, so nothing is ever half-stored.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from mllineage.collector.db.failures import is_retryable, is_unavailable, unavailable
from mllineage.collector.db.partitions import create_month_partitions
from mllineage.collector.ingest.store import StoreContext
from mllineage.collector.ingest.store.raw_copy import copy_append
from mllineage.collector.ingest.store.raw_log import append_events
from mllineage.collector.ingest.validate import ParsedEvent
from mllineage.collector.ingest.writer import first_appends


class BulkLoader:
    """Appends batches to the raw log of ``engine`` (see the module docstring)."""

    def __init__(self, engine: Engine, *, attempts: int = 3) -> None:
        self.engine = engine
        self.attempts = attempts
        self.copy = engine.dialect.name == "postgresql"
        self._partitions_month: tuple[int, int] | None = None

    def append(self, events: Sequence[ParsedEvent]) -> list[bool]:
        for attempt in range(self.attempts):
            try:
                return self._append(events)
            except DBAPIError as exc:
                if is_retryable(exc) and attempt + 1 < self.attempts:
                    time.sleep(0.01 * (attempt + 1))
                    continue
                if is_unavailable(exc):
                    raise unavailable(exc, 5) from exc
                raise
        raise AssertionError("unreachable")

    def _append(self, events: Sequence[ParsedEvent]) -> list[bool]:
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            if self._partitions_month != (now.year, now.month):
                create_month_partitions(conn, now)
            if self.copy:
                fresh = copy_append(conn, events, now)
            else:
                fresh = append_events(StoreContext.open(conn), events, now)
        self._partitions_month = (now.year, now.month)
        return first_appends(events, fresh)
