"""The projector: turns the backlog of acknowledged raw events into the graph, in large batches.

One batch = one transaction: take up to ``batch_size`` backlog rows (oldest first), project their
events (``store.project_batch``), delete those rows, commit. The marker is consumed in the very
transaction that projects, so a crash at any point either loses the whole batch's effect (its
rows are still in the backlog and are projected again) or keeps all of it; and re-projecting is
harmless anyway, every upsert being idempotent and order-free.

Several collector processes on one PostgreSQL may all run a projector. They elect a leader per
batch with a transaction-level advisory lock (``pg_try_advisory_xact_lock``) rather than
claiming disjoint rows with ``FOR UPDATE SKIP LOCKED``: two batches projected concurrently would
upsert the same datasets, jobs, facets and current runs (hot rows are shared by most events), so
they would serialise on row locks anyway, risk deadlocks across tables that cannot all be locked
in one key order, and race on the read-then-write steps (a job's current run, derived facet
tables). One projector at a time keeps each batch's reads and writes consistent, and large
set-based batches make it fast; ingest, the part that must scale with processes, never takes
the lock. The lock dies with its transaction, so a crashed leader never blocks the others.
SQLite has one writer at a time by construction; a second process's projector at worst
projects a batch twice, which changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from mllineage.collector.db.failures import is_retryable, is_unavailable, reason
from mllineage.collector.db.statistics import StatisticsKeeper
from mllineage.collector.db.tables import backlog_t
from mllineage.collector.ingest.store import IdCache, RawBatch, StoreContext, project_batch
from mllineage.collector.ingest.store.dialect import chunks
from mllineage.collector.ingest.validate import ParsedEvent

log = logging.getLogger(__name__)

#: ``pg_advisory_xact_lock`` key of the projector leader ("mllproj" in ASCII).
LEADER_LOCK = 0x6D6C6C70726F6A

#: One backlog row: (seq, event hash, received at).
BacklogRow = tuple[int, bytes, datetime]


@dataclass
class BatchOutcome:
    """What one call of ``project_next`` did; ``led`` False: another process holds the lead."""

    led: bool = True
    projected: int = 0
    failed: int = 0
    learned: IdCache = field(default_factory=IdCache)
    digests: list[bytes] = field(default_factory=list)  # the events it took from the backlog


def project_next(
    engine: Engine,
    *,
    limit: int,
    ids: IdCache,
    known: Mapping[bytes, ParsedEvent] | None = None,
) -> BatchOutcome:
    """Project the oldest ``limit`` backlog rows in one transaction (see the module docstring).

    ``known``: events still in memory (skips reading them back). A batch the database refuses
    for a reason other than an outage is retried one event per transaction; an event that still
    fails is logged and its marker dropped (it stays in the raw log), so it cannot stall the
    projection forever.
    """
    known = known or {}
    rows: list[BacklogRow] = []
    for attempt in range(2):
        try:
            with engine.begin() as conn:
                if not _lead(conn):
                    return BatchOutcome(led=False)
                rows = _oldest(conn, limit)
                if not rows:
                    return BatchOutcome()
                learned = _project(conn, rows, ids, known)
            return BatchOutcome(projected=len(rows), learned=learned, digests=_digests(rows))
        except IntegrityError as exc:
            # Cached ids go stale when rows are deleted behind our back: forget them, try again.
            ids.clear()
            if attempt == 0:
                continue
            log.warning("projecting a batch failed (%s); now one event at a time", reason(exc))
        except DBAPIError as exc:
            if not rows or is_unavailable(exc) or is_retryable(exc):
                raise
            log.warning("projecting a batch failed (%s); now one event at a time", reason(exc))
        except Exception:
            if not rows:
                raise
            log.warning("projecting a batch failed; now one event at a time", exc_info=True)
        break
    outcome = _one_by_one(engine, [row[0] for row in rows], ids, known)
    outcome.digests = _digests(rows)
    return outcome


def _digests(rows: list[BacklogRow]) -> list[bytes]:
    """The rows' distinct events in backlog (arrival) order."""
    return list(dict.fromkeys(digest for _, digest, _ in rows))


def _lead(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return True
    return bool(conn.execute(select(func.pg_try_advisory_xact_lock(LEADER_LOCK))).scalar())


def _oldest(conn: Connection, limit: int, seqs: Sequence[int] | None = None) -> list[BacklogRow]:
    b = backlog_t.c
    query = select(b.seq, b.event_hash, b.received_at).order_by(b.seq).limit(limit)
    if seqs is not None:
        query = query.where(b.seq.in_(seqs))
    return [(seq, bytes(digest), at) for seq, digest, at in conn.execute(query)]


def _project(
    conn: Connection, rows: list[BacklogRow], ids: IdCache, known: Mapping[bytes, ParsedEvent]
) -> IdCache:
    ctx = StoreContext.open(conn, ids)
    now = min(at for _, _, at in rows)
    project_batch(ctx, RawBatch(_digests(rows), now, known))
    seqs = [seq for seq, _, _ in rows]
    for chunk in chunks(seqs, 5000):
        conn.execute(delete(backlog_t).where(backlog_t.c.seq.in_(chunk)))
    return ctx.learned


def _one_by_one(
    engine: Engine, seqs: list[int], ids: IdCache, known: Mapping[bytes, ParsedEvent]
) -> BatchOutcome:
    outcome = BatchOutcome()
    for seq in seqs:
        try:
            with engine.begin() as conn:
                if not _lead(conn):
                    outcome.led = False
                    return outcome
                rows = _oldest(conn, 1, [seq])
                if rows:
                    outcome.learned.merge(_project(conn, rows, IdCache(), known))
                    outcome.projected += 1
        except DBAPIError as exc:
            if is_unavailable(exc) or is_retryable(exc):
                raise
            _drop(engine, seq, reason(exc))
            outcome.failed += 1
        except Exception as exc:
            _drop(engine, seq, repr(exc))
            outcome.failed += 1
    return outcome


def _drop(engine: Engine, seq: int, why: str) -> None:
    log.error("event of backlog row %d cannot be projected, dropped from the backlog: %s", seq, why)
    with engine.begin() as conn:
        conn.execute(delete(backlog_t).where(backlog_t.c.seq == seq))


class Projector:
    """A thread that keeps projecting the backlog of one database while the collector runs.

    ``wake`` (called after every ingest commit) makes it look at once; otherwise it polls every
    ``idle_seconds`` (other processes' events). ``remember`` hands it the events the ingest path
    still holds parsed. ``pause``/``resume`` are a hook for tests and operations: a paused
    projector finishes its batch and then takes no new one. ``on_projected`` is called after
    every committed batch (the read barrier's notification). Before each batch the tables that
    changed enough since their last ``ANALYZE`` are analyzed (``db.statistics``): the projector
    writes faster than autovacuum refreshes statistics, and plans without them scan.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        batch_size: int = 5000,
        idle_seconds: float = 0.05,
        memory_limit: int = 100_000,
        on_projected: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.memory_limit = memory_limit
        self.on_projected = on_projected
        self.ids = IdCache()
        self.statistics = StatisticsKeeper(engine)
        self.projected = 0
        self.failed = 0
        self.busy_seconds = 0.0  # spent in batches that projected something
        self._known: dict[bytes, ParsedEvent] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(
                target=self._run, name="mllineage-projector", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Project what is pending (unless paused), then end the thread.

        If the database fails while stopping, the thread ends at once: pending events stay in
        the durable backlog and the next projector to start takes them.
        """
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def remember(self, events: Sequence[ParsedEvent]) -> None:
        with self._lock:
            if len(self._known) + len(events) <= self.memory_limit:
                self._known.update((event.digest, event) for event in events)
        self._wake.set()

    def run_once(self) -> BatchOutcome:
        """Project one batch now (the thread's step; also for tools and tests)."""
        # Read without the lock: the ingest side only adds entries, and lookups are atomic.
        started = time.perf_counter()
        self.statistics.refresh()
        outcome = project_next(self.engine, limit=self.batch_size, ids=self.ids, known=self._known)
        if outcome.projected or outcome.failed:
            self.busy_seconds += time.perf_counter() - started
            self.ids.merge(outcome.learned)
            self.projected += outcome.projected
            self.failed += outcome.failed
            with self._lock:
                for digest in outcome.digests:
                    self._known.pop(digest, None)
            if self.on_projected is not None:
                self.on_projected()
        return outcome

    def drain(self, on_batch: Callable[[int], None] | None = None) -> int:
        """Project until the backlog is empty, waiting while another process leads; the number
        of events projected. ``on_batch`` gets the running total after each projected batch."""
        total = 0
        while True:
            outcome = self.run_once()
            if not outcome.led:
                time.sleep(self.idle_seconds)
                continue
            if not outcome.projected and not outcome.failed:
                return total
            total += outcome.projected
            if on_batch is not None:
                on_batch(total)

    def _run(self) -> None:
        while True:
            if self._stop and not self._running.is_set():
                return
            if not self._running.is_set():
                self._wake.wait(self.idle_seconds)
                self._wake.clear()
                continue
            try:
                outcome = self.run_once()
            except DBAPIError as exc:
                if self._stop:  # the backlog is durable: the next start projects it
                    log.warning("projector: %s; stopping with events pending", reason(exc))
                    return
                log.warning("projector: %s; retrying", reason(exc))
                time.sleep(min(1.0, self.idle_seconds * 10))
                continue
            except Exception:
                log.exception("projector step failed; retrying")
                if self._stop:
                    return
                time.sleep(min(1.0, self.idle_seconds * 10))
                continue
            if outcome.projected or outcome.failed:
                continue  # more may be waiting: take the next batch at once
            if self._stop:
                return
            self._wake.wait(self.idle_seconds)
            self._wake.clear()
