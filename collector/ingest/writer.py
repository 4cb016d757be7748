"""Group commit: concurrent requests share one database transaction, each acknowledged after it.

Requests hand their validated events to ``IngestWriter.submit`` and wait. A writer thread takes
everything queued (up to ``max_batch`` events), appends it to the raw log in one transaction
(``store.raw_log.append_events``: raw rows + backlog markers, no graph table) and commits, then
answers every waiting request. One fsync thus covers many requests, which is how single-event HTTP
ingestion gets past the commits-per-second ceiling of the disk. The graph is the projector's
business (``ingest.projector``); ``on_appended`` hands it the new events once committed.

Guarantees: a request is answered only after its events are committed (or with an error);
per-event atomicity holds, because a batch that fails for any reason other than the database
being unreachable is retried one event per transaction, so one bad event cannot take others
down with it; when the database is unreachable every waiting request gets ``DatabaseUnavailable``
(HTTP 503) and nothing is half-written, and the next batch simply tries again.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from mllineage.collector.db.failures import is_retryable, is_unavailable, reason, unavailable
from mllineage.collector.db.partitions import create_month_partitions
from mllineage.collector.errors import DatabaseUnavailable
from mllineage.collector.ingest.store import StoreContext
from mllineage.collector.ingest.store.raw_log import append_events
from mllineage.collector.ingest.validate import ParsedEvent

log = logging.getLogger(__name__)

#: Outcome per event: True = new, False = duplicate, an exception = that event failed.
Outcome = bool | Exception


@dataclass(slots=True)
class _Work:
    events: Sequence[ParsedEvent]
    future: Future[list[Outcome]] = field(default_factory=Future)


class IngestWriter:
    """Owns the writer threads; ``submit`` (async) and ``submit_sync`` enqueue and wait.

    ``writers`` threads take batches from one queue. More than one lets a batch be written while
    another waits for its commit (PostgreSQL); concurrent transactions that collide on a row are
    retried (deadlock / serialization failure), so correctness does not depend on it.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 256,
        queue_size: int = 10_000,
        retry_after: int = 5,
        writers: int = 1,
        on_appended: Callable[[Sequence[ParsedEvent]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.retry_after = retry_after
        self.writers = writers
        self._queue: queue.Queue[_Work | None] = queue.Queue(maxsize=queue_size)
        self._threads: list[threading.Thread] = []
        self._partitions_month: tuple[int, int] | None = None
        self.on_appended = on_appended
        self.batches_committed = 0

    def start(self) -> None:
        if self._threads:
            return
        for number in range(self.writers):
            thread = threading.Thread(
                target=self._run, name=f"mllineage-writer-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Finish what is queued, then end every writer thread."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []

    @property
    def queue_depth(self) -> int:
        """Requests waiting for a writer thread (approximate, as ``Queue.qsize`` is)."""
        return self._queue.qsize()

    async def submit(self, events: Sequence[ParsedEvent]) -> list[Outcome]:
        """Store ``events``; resolves after their commit. Raises ``DatabaseUnavailable``."""
        return await asyncio.wrap_future(self._enqueue(events))

    def submit_sync(self, events: Sequence[ParsedEvent]) -> list[Outcome]:
        return self._enqueue(events).result()

    def submit_nowait(self, events: Sequence[ParsedEvent]) -> Future[list[Outcome]]:
        """Enqueue ``events`` and return at once; the future resolves after their commit."""
        return self._enqueue(events)

    def _enqueue(self, events: Sequence[ParsedEvent]) -> Future[list[Outcome]]:
        work = _Work(events)
        if not events:
            work.future.set_result([])
            return work.future
        try:
            self._queue.put_nowait(work)
        except queue.Full:
            work.future.set_exception(
                DatabaseUnavailable("ingest queue is full", retry_after=self.retry_after)
            )
        return work.future

    # -- writer thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            size = len(first.events)
            while size < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
                size += len(more.events)
            self._write(batch)
            # Drop our references before blocking on the queue again, or the last batch's
            # events (tens of MB for large batches) stay alive until the next one arrives.
            first = more = None
            batch = []

    def _ensure_partitions(self) -> None:
        """Once per month turn: create the raw log's partitions ahead (PostgreSQL only)."""
        now = datetime.now(UTC)
        if self._partitions_month == (now.year, now.month):
            return
        try:
            with self.engine.begin() as conn:
                create_month_partitions(conn, now)
        except DBAPIError as exc:
            log.warning("could not create event-log partitions: %s", reason(exc))
            return
        self._partitions_month = (now.year, now.month)

    def _write(self, batch: list[_Work]) -> None:
        self._ensure_partitions()
        events = [event for work in batch for event in work.events]
        try:
            outcomes: list[Outcome] = list(self._store_with_retry(events))
        except DatabaseUnavailable as exc:
            for work in batch:
                work.future.set_exception(exc)
            return
        except Exception:
            log.warning(
                "batch of %d events failed; retrying one by one", len(events), exc_info=True
            )
            outcomes = [self._store_one(event) for event in events]
        self.batches_committed += 1
        start = 0
        for work in batch:
            end = start + len(work.events)
            work.future.set_result(outcomes[start:end])
            start = end

    def _store_one(self, event: ParsedEvent) -> Outcome:
        try:
            return self._store_with_retry([event])[0]
        except DatabaseUnavailable as exc:
            return exc
        except Exception as exc:
            log.exception("event could not be stored")
            return exc

    def _store_with_retry(self, events: Sequence[ParsedEvent], attempts: int = 3) -> list[bool]:
        for attempt in range(attempts):
            try:
                new = append_committed(self.engine, events)
            except IntegrityError:
                # A real constraint violation fails again and propagates.
                if attempt + 1 < attempts:
                    continue
                raise
            except DBAPIError as exc:
                if is_retryable(exc) and attempt + 1 < attempts:
                    time.sleep(0.01 * (attempt + 1))
                    continue
                if is_unavailable(exc):
                    raise unavailable(exc, self.retry_after) from exc
                raise
            else:
                if self.on_appended is not None:
                    self.on_appended([e for e, is_new in zip(events, new, strict=True) if is_new])
                return new
        raise AssertionError("unreachable")


def append_committed(engine: Engine, events: Sequence[ParsedEvent]) -> list[bool]:
    """Append ``events`` to the raw log in one committed transaction; per event, True if new
    (False: already stored, or a repeat of an earlier event of ``events``)."""
    with engine.begin() as conn:
        fresh = append_events(StoreContext.open(conn), events, datetime.now(UTC))
    return first_appends(events, fresh)


def first_appends(events: Sequence[ParsedEvent], fresh: set[bytes]) -> list[bool]:
    """Per event, True if the append stored it (its digest is in ``fresh``) and no earlier event
    of ``events`` had the same digest."""
    claimed: set[bytes] = set()
    new = []
    for parsed in events:
        new.append(parsed.digest in fresh and parsed.digest not in claimed)
        claimed.add(parsed.digest)
    return new
