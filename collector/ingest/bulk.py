"""Bulk import of NDJSON event files (``mllineage import``): the fast path around the HTTP API.

Load and projection overlap. This thread reads and validates the file (exactly as over HTTP) in
batches of ``batch_size`` events; a loader thread appends each batch to the raw log and the
projection backlog in one transaction (``ingest.bulk_load``: ``COPY`` on PostgreSQL); meanwhile
the collector's own projector (``ingest.projector``) runs beside them and drains the backlog in
large batches (up to ``projection_batch`` events, one transaction each). When the file is loaded
the projector finishes the backlog. So an import is idempotent (events already in the log are
skipped) and leaves the graph that posting the same events over HTTP leaves; an interrupted
import leaves only backlog behind, which the next import or a running collector projects.

An invalid line stops the import with its line number and the reason, unless ``skip_invalid``
(then it is recorded and skipped): the events before it are stored and projected, none from it
on, and no batch is ever stored in part, so fixing the line and importing again completes the
file (the events already imported count as duplicates).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson
from sqlalchemy import Engine

from mllineage.collector.errors import CollectorError
from mllineage.collector.gc_tuning import tune_for_ingestion
from mllineage.collector.ingest.bulk_load import BulkLoader
from mllineage.collector.ingest.projector import Projector
from mllineage.collector.ingest.validate import EventValidator, ParsedEvent

log = logging.getLogger(__name__)

#: Events per projection transaction: large batches amortise the SQL program's fixed cost on
#: PostgreSQL; SQLite's Python fold holds the one write lock while it runs, so less there.
PROJECTION_BATCH = {"postgresql": 20_000, "sqlite": 5_000}


@dataclass
class ImportReport:
    """What an import did.

    ``rejected``: (line number, reason) of every invalid line skipped; ``stopped``: the invalid
    line that stopped the import (None if it ran to the end). ``load_seconds``: reading,
    validating and appending; ``projection_seconds``: time the projector spent projecting
    (overlapping the load); ``seconds``: the whole import, until the backlog was empty.
    """

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    stopped: tuple[int, str] | None = None
    seconds: float = 0.0
    load_seconds: float = 0.0
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


class InvalidLine(Exception):
    """Line ``number`` of the file is not a valid event (``reason`` says why)."""

    def __init__(self, number: int, reason: str) -> None:
        super().__init__(f"line {number}: {reason}")
        self.number = number
        self.reason = reason


def read_ndjson(
    lines: IO[bytes], validator: EventValidator, report: ImportReport, *, skip_invalid: bool
) -> Iterator[ParsedEvent]:
    """Validated events of an NDJSON stream; an invalid line raises ``InvalidLine`` or, with
    ``skip_invalid``, is recorded in ``report.rejected``."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        report.read += 1
        try:
            yield validator.validate(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            why = f"not JSON: {exc}"
        except CollectorError as exc:
            where = "; ".join(f"{d.loc or '/'}: {d.msg}" for d in exc.details[:3])
            why = f"{exc.message} ({where})"
        else:
            continue
        if not skip_invalid:
            report.read -= 1
            raise InvalidLine(number, why)
        report.rejected.append((number, why))


def import_ndjson(
    path: Path,
    engine: Engine,
    *,
    batch_size: int = 2000,
    validator: EventValidator | None = None,
    skip_invalid: bool = False,
    projection_batch: int | None = None,
    on_loaded: Callable[[int, int], None] | None = None,
    on_projected: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ``path`` (NDJSON, one event per line) into ``engine``; see the module docstring.

    ``on_loaded(bytes_read, events_loaded)`` is called after each committed load batch and
    ``on_projected(events_projected, events_loaded)`` after each projected batch (from the
    projector's thread). An unreachable database stops the import with ``DatabaseUnavailable``,
    every batch before the failed one committed.
    """
    tune_for_ingestion()
    report = ImportReport()
    loader = BulkLoader(engine)
    remember = engine.dialect.name != "postgresql"  # the SQL program reads the log itself
    projector = Projector(
        engine, batch_size=projection_batch or PROJECTION_BATCH.get(engine.dialect.name, 5000)
    )
    if on_projected is not None:
        notify = on_projected
        projector.on_projected = lambda: notify(
            projector.projected, report.stored + report.duplicates
        )
    started = time.perf_counter()
    projector.start()
    try:
        with (
            ThreadPoolExecutor(1, thread_name_prefix="mllineage-import-load") as pool,
            path.open("rb") as handle,
        ):
            events = read_ndjson(
                handle, validator or EventValidator(), report, skip_invalid=skip_invalid
            )
            _Load(pool, loader, projector, report, remember, on_loaded).run(
                events, handle, batch_size
            )
        report.load_seconds = time.perf_counter() - started
    except BaseException:
        projector.pause()  # the backlog is durable: whoever projects next takes it
        projector.stop()
        raise
    projector.stop()
    projector.drain()  # what another process's projector held the lead for at the end
    report.projected = projector.projected
    report.projection_seconds = projector.busy_seconds
    report.seconds = time.perf_counter() - started
    return report


class _Load:
    """The load loop: batches handed to one loader thread, one loading and one waiting."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        loader: BulkLoader,
        projector: Projector,
        report: ImportReport,
        remember: bool,
        on_loaded: Callable[[int, int], None] | None,
    ) -> None:
        self.pool = pool
        self.loader = loader
        self.projector = projector
        self.report = report
        self.remember = remember
        self.on_loaded = on_loaded
        self.pending: deque[tuple[Future[list[bool]], list[ParsedEvent], int]] = deque()

    def run(self, events: Iterator[ParsedEvent], handle: IO[bytes], batch_size: int) -> None:
        batch: list[ParsedEvent] = []
        try:
            for parsed in events:
                batch.append(parsed)
                if len(batch) >= batch_size:
                    self._submit(batch, handle.tell())
                    batch = []
                    while len(self.pending) > 1:
                        self._settle(*self.pending.popleft())
        except InvalidLine as exc:
            self.report.stopped = (exc.number, exc.reason)
        if batch:  # the events before an invalid line are stored too: a clean prefix
            self._submit(batch, handle.tell())
        while self.pending:
            self._settle(*self.pending.popleft())

    def _submit(self, batch: list[ParsedEvent], position: int) -> None:
        self.pending.append((self.pool.submit(self.loader.append, batch), batch, position))

    def _settle(self, future: Future[list[bool]], batch: list[ParsedEvent], position: int) -> None:
        outcomes = future.result()
        new = sum(outcomes)
        self.report.stored += new
        self.report.duplicates += len(outcomes) - new
        if self.remember and new:
            fresh = [e for e, is_new in zip(batch, outcomes, strict=True) if is_new]
            self.projector.remember(fresh)
        self.projector.wake()
        if self.on_loaded is not None:
            self.on_loaded(position, self.report.stored + self.report.duplicates)
