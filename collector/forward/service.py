"""The forwarder: one worker per configured target, and what ``/ready`` and metrics report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from mllineage.collector.db.tables import forward_cursors_t
from mllineage.collector.forward.log import backlog
from mllineage.collector.forward.targets import Target
from mllineage.collector.forward.worker import Pacing, TargetWorker


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """One target as ``/ready`` shows it; ``backlog`` None until its cursor is known."""

    name: str
    target: str
    backlog: int | None
    backlog_capped: bool
    lag_seconds: float | None
    forwarded: int
    parked: int
    failures: int
    last_error: str | None
    last_error_at: datetime | None


class Forwarder:
    def __init__(self, engine: Engine, targets: list[Target], pacing: Pacing | None = None) -> None:
        self.engine = engine
        self.workers = [TargetWorker(target, engine, pacing or Pacing()) for target in targets]

    def start(self) -> None:
        for worker in self.workers:
            worker.start()

    def stop(self) -> None:
        for worker in self.workers:
            worker.request_stop()  # all at once, then wait for each
        for worker in self.workers:
            worker.stop()

    def status(self) -> list[TargetStatus]:
        """Per-target backlog and lag, read from the database now (one connection)."""
        if not self.workers:
            return []
        now = datetime.now(UTC)
        statuses = []
        with self.engine.connect() as conn:
            stored = {
                row[0]: row[1:]
                for row in conn.execute(
                    select(
                        forward_cursors_t.c.target,
                        forward_cursors_t.c.commit_tx,
                        forward_cursors_t.c.event_id,
                        forward_cursors_t.c.forwarded,
                        forward_cursors_t.c.parked,
                    )
                )
            }
            for worker in self.workers:
                name = worker.target.name
                cursor = worker.cursor
                row = stored.get(name)
                position = cursor.position if cursor else (row[0], row[1]) if row else None
                waiting = backlog(conn, position) if position is not None else None
                oldest = waiting.oldest_received_at if waiting else None
                statuses.append(
                    TargetStatus(
                        name=name,
                        target=worker.target.describe(),
                        backlog=waiting.count if waiting else None,
                        backlog_capped=waiting.capped if waiting else False,
                        lag_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
                        forwarded=row[2] if row else 0,
                        parked=row[3] if row else 0,
                        failures=worker.counters.failures,
                        last_error=worker.counters.last_error,
                        last_error_at=worker.counters.last_error_at,
                    )
                )
        return statuses
