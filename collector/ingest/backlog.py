"""The projection backlog as readers see it: how far behind the graph is, and waiting for it.

Contracts:

- ``projection_backlog(conn)`` reports the events acknowledged but not projected yet (count and
  the age of the oldest): what ``/ready``, metrics and forwarders report.
- ``ReadBarrier.wait()`` returns once every event acknowledged before the call began is
  projected, or once ``timeout`` passed, and then returns the backlog's age (the staleness the
  answer may have). Acknowledged means committed, and the backlog row is committed with the
  event, so the rows visible when the wait begins are a superset of those events; the wait ends
  when none of them remains (``seq`` at or below the highest seen at the start). In steady state
  (empty backlog) that is one probe of the backlog's primary key.
- With a read replica, the barrier also waits until the replica has replayed the primary's WAL
  up to the position the projection had reached (``pg_current_wal_lsn`` read after the backlog
  emptied), so the replica shows the same projection the primary does.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select, text

from mllineage.collector.db.tables import backlog_t


@dataclass(frozen=True, slots=True)
class BacklogStatus:
    """``pending`` events not projected yet; ``oldest_age_seconds`` None when there are none."""

    pending: int
    oldest_age_seconds: float | None


def projection_backlog(conn: Connection) -> BacklogStatus:
    """The backlog now (one count over a small table and one index probe)."""
    pending = conn.execute(select(func.count()).select_from(backlog_t)).scalar_one()
    oldest = conn.execute(
        select(backlog_t.c.received_at).order_by(backlog_t.c.seq).limit(1)
    ).scalar()
    age = None if oldest is None else max(0.0, (datetime.now(UTC) - oldest).total_seconds())
    return BacklogStatus(int(pending), age)


def backlog_mark(conn: Connection) -> int | None:
    """The highest ``seq`` in the backlog (None when empty): what a read must wait past."""
    return conn.execute(select(func.max(backlog_t.c.seq))).scalar()


def pending_at_or_below(conn: Connection, mark: int) -> bool:
    row = conn.execute(
        select(backlog_t.c.seq).where(backlog_t.c.seq <= mark).order_by(backlog_t.c.seq).limit(1)
    ).first()
    return row is not None


class ReadBarrier:
    """Read-your-writes for one collector: ``wait`` before every consistent read.

    ``projected`` is set by this process's projector after each commit, so a waiting read
    re-probes at once instead of at the next poll; other processes' projectors are seen by the
    poll (``poll_seconds``, doubling up to 50 ms).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        timeout: float,
        replica: Engine | None = None,
        poll_seconds: float = 0.002,
    ) -> None:
        self.engine = engine
        self.replica = replica
        self.timeout = timeout
        self.poll_seconds = poll_seconds
        self.projected = threading.Condition()

    def notify_projected(self) -> None:
        with self.projected:
            self.projected.notify_all()

    def wait(self) -> float | None:
        """Block until the projection covers what was acknowledged before the call; None when
        it does, else (after ``timeout``) the age in seconds of the oldest unprojected event."""
        deadline = time.monotonic() + self.timeout
        with self.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            mark, lsn = self._mark(conn)
            delay = self.poll_seconds
            while mark is not None and pending_at_or_below(conn, mark):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return projection_backlog(conn).oldest_age_seconds or 0.0
                with self.projected:
                    self.projected.wait(min(delay, remaining))
                delay = min(delay * 2, 0.05)
                lsn = None
            if self.replica is None:
                return None
            if lsn is None:
                lsn = conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
        return self._wait_replica(str(lsn), deadline)

    def _mark(self, conn: Connection) -> tuple[int | None, str | None]:
        if self.replica is None:
            return backlog_mark(conn), None
        mark, lsn = conn.execute(select(func.max(backlog_t.c.seq), func.pg_current_wal_lsn())).one()
        return mark, str(lsn)

    def _wait_replica(self, lsn: str, deadline: float) -> float | None:
        assert self.replica is not None
        started = time.monotonic()
        delay = self.poll_seconds
        # NULL on a server that is not in recovery: it is the primary, caught up by definition.
        probe = text("SELECT coalesce(pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn), true)")
        with self.replica.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            while not conn.execute(probe, {"lsn": lsn}).scalar():
                if time.monotonic() >= deadline:
                    return time.monotonic() - started
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        return None
