"""``mllineage replay``: re-send the raw log's history to a target (e.g. to seed a new Marquez).

Events go in the log's commit order (``log.py``), optionally only those with an ``eventTime`` at
or after ``since`` and of jobs in ``namespace``. A send that fails because the target is not
working is retried with backoff up to ``retries`` times, then the replay stops (run it again:
receivers deduplicate); an event the target refuses (HTTP 4xx) is reported and passed over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Engine

from mllineage.collector.db.tables import events_t
from mllineage.collector.forward.log import START, read_after
from mllineage.collector.forward.targets import Target, is_rejection
from mllineage.collector.forward.worker import Pacing


@dataclass(slots=True)
class ReplayReport:
    sent: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (event id, error)
    aborted: str | None = None  # the error that stopped the replay, if one did
    seconds: float = 0.0


def replay(
    engine: Engine,
    target: Target,
    *,
    since: datetime | None = None,
    namespace: str | None = None,
    retries: int = 5,
    pacing: Pacing | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    pacing = pacing or Pacing()
    filters: list[ColumnElement[bool]] = []
    if since is not None:
        filters.append(events_t.c.event_time >= since)
    if namespace is not None:
        filters.append(events_t.c.job_namespace == namespace)
    transport = target.transport()
    report = ReplayReport()
    started = time.monotonic()
    position = START
    while report.aborted is None:
        with engine.connect() as conn:
            entries = read_after(
                conn, position, pacing.batch, filters=tuple(filters), settled_only=False
            )
        if not entries:
            break
        for entry in entries:
            for attempt in range(1, retries + 2):
                try:
                    transport.emit(entry.payload)  # type: ignore[arg-type]
                except Exception as exc:  # a transport may raise anything
                    error = f"{type(exc).__name__}: {exc}"
                    if is_rejection(exc):
                        report.refused.append((entry.position[1], error))
                        break
                    if attempt > retries:
                        report.aborted = error
                        break
                    time.sleep(pacing.backoff(attempt))
                    continue
                report.sent += 1
                break
            if report.aborted is not None:
                break
            position = entry.position
        if progress is not None:
            progress(report.sent)
    report.seconds = time.monotonic() - started
    return report
