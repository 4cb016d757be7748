"""One thread per forwarding target, sending the raw log in commit order from a durable cursor.

Contract: every event committed to the raw log after a target was first configured is sent to it
at least once, in log order (``log.py``), unless the target refused it ``park_after`` times in a
row (a poison event: parked in ``forward_parked``, logged, counted, and passed over). A target
that is down or slow is retried without limit, with exponential backoff and jitter, and only its
own thread waits: ingestion and the other targets never do. The cursor is saved at least every
``save_every`` seconds while sending and before every wait, so a restart resends at most that
much (duplicates are normal OpenLineage traffic; receivers deduplicate) and skips nothing.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from openlineage.client.transport import Transport
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from mllineage.collector.forward import cursors
from mllineage.collector.forward.cursors import Cursor
from mllineage.collector.forward.log import LogEntry, Position, commit_order, read_after
from mllineage.collector.forward.targets import Target, is_rejection

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pacing:
    """How a worker reads, retries and waits."""

    batch: int = 200
    park_after: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    poll_interval: float = 0.5
    save_every: float = 1.0

    def backoff(self, failures: int) -> float:
        """Exponential in ``failures`` (capped), with jitter over its upper half."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** min(failures - 1, 30))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography


@dataclass(slots=True)
class TargetCounters:
    """What this process did for one target (Prometheus counters read these)."""

    sent: int = 0
    failures: int = 0
    parked: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None


class TargetWorker:
    def __init__(self, target: Target, engine: Engine, pacing: Pacing) -> None:
        self.target = target
        self.engine = engine
        self.pacing = pacing
        self.counters = TargetCounters()
        self.cursor: Cursor | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._transport: Transport | None = None
        self._saved_at = time.monotonic()
        #: Where sending has got (saved to the cursor at the next ``_save``), and what since.
        self._done: Position = (0, 0)
        self._unsaved = {"sent": 0, "parked": 0}

    def start(self) -> None:
        """Fix the cursor now (a new target starts at the log's head as the collector starts,
        not whenever its thread first runs, which may be after the first events are accepted),
        then send from a thread; a database down at start defers the cursor to the thread."""
        try:
            self._load_cursor()
        except DBAPIError as exc:
            log.warning("forwarding to %s: database unavailable: %s", self.target.name, exc)
        self._thread = threading.Thread(
            target=self._run, name=f"mllineage-forward-{self.target.name}", daemon=True
        )
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop and wait up to ``timeout`` (a send in flight is abandoned, then resent later)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the loop --------------------------------------------------------------------------------

    def _run(self) -> None:
        """Read, send, repeat; the database being down (or a bug) pauses, never ends, the loop."""
        failures = 0
        while not self._stop.is_set():
            try:
                entries = self._next_batch()
                if entries:
                    self._forward(entries)
            except DBAPIError as exc:
                failures += 1
                log.warning("forwarding to %s: database unavailable: %s", self.target.name, exc)
            except Exception:  # keep the target alive; the events after the cursor are resent
                failures += 1
                log.exception("forwarding to %s: unexpected error", self.target.name)
            else:
                failures = 0
                if not entries:
                    self._stop.wait(self.pacing.poll_interval)
                continue
            self._stop.wait(self.pacing.backoff(failures))

    def _load_cursor(self) -> None:
        with self.engine.begin() as conn:
            self.cursor = cursors.load_cursor(conn, self.target.name, _now())
        self._done = self.cursor.position

    def _next_batch(self) -> list[LogEntry]:
        if self.cursor is None:
            self._load_cursor()
        assert self.cursor is not None
        with self.engine.connect() as conn:
            entries = read_after(conn, self.cursor.position, self.pacing.batch)
            if not entries:
                rebased = commit_order(conn).rebase(conn, self.cursor.position)
                if rebased != self.cursor.position:
                    self._done = rebased
                    self._save()
        return entries

    def _forward(self, entries: list[LogEntry]) -> None:
        for entry in entries:
            outcome = self._deliver(entry)
            if outcome is None:
                break
            self._done = entry.position
            self._unsaved[outcome] += 1
            if time.monotonic() - self._saved_at >= self.pacing.save_every:
                self._save()
        self._save()

    def _deliver(self, entry: LogEntry) -> str | None:
        """Send one event until it goes through ("sent") or is parked; None when stopping."""
        failures = rejections = 0
        while not self._stop.is_set():
            try:
                if self._transport is None:
                    self._transport = self.target.transport()
                self._transport.emit(entry.payload)  # type: ignore[arg-type]
            except Exception as exc:  # a transport may raise anything
                failures += 1
                self._record_failure(exc)
                if is_rejection(exc):
                    rejections += 1
                    if rejections >= self.pacing.park_after:
                        self._park(entry, rejections, exc)
                        return "parked"
                self._save()  # before waiting: a restart then resends little
                self._stop.wait(self.pacing.backoff(failures))
                continue
            self.counters.sent += 1
            return "sent"
        return None

    # -- bookkeeping -----------------------------------------------------------------------------

    def _record_failure(self, exc: BaseException) -> None:
        self.counters.failures += 1
        self.counters.last_error = f"{type(exc).__name__}: {exc}"[:500]
        self.counters.last_error_at = _now()
        if self.counters.failures == 1 or self.counters.failures % 100 == 0:
            log.warning("forwarding to %s failed: %s", self.target.name, self.counters.last_error)

    def _park(self, entry: LogEntry, attempts: int, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"
        log.error(
            "forwarding to %s: event %s parked after %d refusals: %s",
            self.target.name,
            entry.position[1],
            attempts,
            error,
        )
        with self.engine.begin() as conn:
            cursors.park(conn, self.target.name, entry, attempts=attempts, error=error, now=_now())
        self.counters.parked += 1

    def _save(self) -> None:
        """Persist the cursor at ``_done`` with the unsaved counts (retried at the next save if
        the database is down; the events since the last save are then resent after a restart)."""
        assert self.cursor is not None
        self._saved_at = time.monotonic()
        sent, parked = self._unsaved["sent"], self._unsaved["parked"]
        if self._done == self.cursor.position and not (sent or parked):
            return
        try:
            with self.engine.begin() as conn:
                now = _now()
                moved = cursors.advance(
                    conn, self.cursor, self._done, sent=sent, parked=parked, now=now
                )
                if moved is None:  # another process moved it: take the further of the two
                    moved = cursors.load_cursor(conn, self.target.name, now)
                    if moved.position < self._done:
                        moved = cursors.advance(
                            conn, moved, self._done, sent=sent, parked=parked, now=now
                        ) or cursors.load_cursor(conn, self.target.name, now)
        except DBAPIError as exc:
            log.warning("forwarding to %s: cursor not saved: %s", self.target.name, exc)
            return
        self.cursor = moved
        self._done = moved.position
        self._unsaved = {"sent": 0, "parked": 0}


def _now() -> datetime:
    return datetime.now(UTC)
