"""Bulk import of NDJSON event files (``mllineage import``): the fast path around the HTTP API.

Two phases. Load: events are read line by line, validated exactly as over HTTP, and appended to
the raw log (and the projection backlog) in large transactions (``batch_size`` events each).
Project: the same projector the collector runs takes the backlog in large batches until it is
empty. So an import is idempotent and produces the same graph as posting the events one by one;
an interrupted import leaves only backlog behind, which the next import or a running collector
projects. Invalid lines are reported with their line number and skipped; they never abort the
import or touch what is stored.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from sqlalchemy import Engine

from mllineage.collector.errors import CollectorError, DatabaseUnavailable
from mllineage.collector.gc_tuning import tune_for_ingestion
from mllineage.collector.ingest.backlog import projection_backlog
from mllineage.collector.ingest.projector import Projector
from mllineage.collector.ingest.validate import EventValidator, ParsedEvent
from mllineage.collector.ingest.writer import IngestWriter, Outcome

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    """What an import did; ``rejected`` holds (line number, reason) for every invalid line."""

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    failed: int = 0  # valid events the database refused (logged with their error)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    load_seconds: float = 0.0  # reading, validating and appending to the raw log
    projected: int = 0  # backlog events projected (this import's and any left before)
    projection_seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    @property
    def load_rate(self) -> float:
        return self.read / self.load_seconds if self.load_seconds else 0.0

    @property
    def projection_rate(self) -> float:
        return self.projected / self.projection_seconds if self.projection_seconds else 0.0


def read_ndjson(
    lines: Iterable[bytes], validator: EventValidator, report: ImportReport
) -> Iterator[ParsedEvent]:
    """Validated events of an NDJSON stream; invalid lines are recorded in ``report``."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        report.read += 1
        try:
            yield validator.validate(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            report.rejected.append((number, f"not JSON: {exc}"))
        except CollectorError as exc:
            where = "; ".join(f"{d.loc or '/'}: {d.msg}" for d in exc.details[:3])
            report.rejected.append((number, f"{exc.message} ({where})"))


def import_ndjson(
    path: Path,
    engine: Engine,
    *,
    batch_size: int = 1000,
    validator: EventValidator | None = None,
    writers: int | None = None,
    progress: Callable[[int], None] | None = None,
    projection_batch: int = 5000,
    on_projected: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ``path`` (NDJSON, one event per line; ``-`` is not supported here) into ``engine``.

    Batches go through the collector's own group-commit writer (``IngestWriter``): ``writers``
    threads (default: 2 on PostgreSQL, 1 on SQLite) store batches concurrently, each in one
    transaction, while this thread reads and validates the next ones. The projection does not
    depend on the order batches commit in, so the result is the graph the events imply. A batch
    that fails is retried one event per transaction, so one bad event cannot take others down; an
    unreachable database stops the import with ``DatabaseUnavailable``, every batch before the
    failed one committed. ``progress`` is called with the bytes read so far after each batch.
    Then the backlog is projected in batches of ``projection_batch``;
    ``on_projected(done, pending_at_start)`` reports progress after each.
    """
    tune_for_ingestion()
    if writers is None:
        writers = 1 if engine.dialect.name == "sqlite" else 2
    report = ImportReport()
    writer = IngestWriter(engine, max_batch=batch_size, writers=writers)
    pending: deque[Future[list[Outcome]]] = deque()
    started = time.perf_counter()
    writer.start()
    try:
        with path.open("rb") as handle:
            batch: list[ParsedEvent] = []
            for parsed in read_ndjson(handle, validator or EventValidator(), report):
                batch.append(parsed)
                if len(batch) >= batch_size:
                    pending.append(writer.submit_nowait(batch))
                    batch = []
                    if progress is not None:
                        progress(handle.tell())
                    while len(pending) >= writers:  # bounded read-ahead: one batch per writer
                        _count(pending.popleft().result(), report)
            if batch:
                pending.append(writer.submit_nowait(batch))
            if progress is not None:
                progress(handle.tell())
        while pending:
            _count(pending.popleft().result(), report)
    finally:
        writer.stop()
    report.load_seconds = time.perf_counter() - started
    project_started = time.perf_counter()
    report.projected = project_backlog(
        engine, batch_size=projection_batch, on_projected=on_projected
    )
    report.projection_seconds = time.perf_counter() - project_started
    report.seconds = time.perf_counter() - started
    return report


def project_backlog(
    engine: Engine,
    *,
    batch_size: int = 5000,
    on_projected: Callable[[int, int], None] | None = None,
) -> int:
    """Project the whole backlog (waiting while another process leads); events projected."""
    with engine.connect() as conn:
        total = projection_backlog(conn).pending
    projector = Projector(engine, batch_size=batch_size)
    if on_projected is None:
        return projector.drain()
    report = on_projected
    return projector.drain(lambda done: report(done, max(total, done)))


def _count(outcomes: list[Outcome], report: ImportReport) -> None:
    for outcome in outcomes:
        if isinstance(outcome, DatabaseUnavailable):
            raise outcome
        if isinstance(outcome, Exception):
            report.failed += 1
        elif outcome:
            report.stored += 1
        else:
            report.duplicates += 1
