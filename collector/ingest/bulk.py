"""Bulk import of NDJSON event files (``mllineage import``): the fast path around the HTTP API.

Events are read line by line, validated exactly as over HTTP, and stored through the same
projection in large transactions (``batch_size`` events each), so an import is idempotent and
produces the same graph as posting the events one by one. Invalid lines are reported with their
line number and skipped; they never abort the import or touch what is stored.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from sqlalchemy import Engine

from mllineage.collector.errors import CollectorError
from mllineage.collector.gc_tuning import tune_for_ingestion
from mllineage.collector.ingest.store import IdCache
from mllineage.collector.ingest.validate import EventValidator, ParsedEvent
from mllineage.collector.ingest.writer import store_committed

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    """What an import did; ``rejected`` holds (line number, reason) for every invalid line."""

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0


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
    batch_size: int = 2000,
    validator: EventValidator | None = None,
) -> ImportReport:
    """Import ``path`` (NDJSON, one event per line; ``-`` is not supported here) into ``engine``.

    Reading and validating the next batch overlaps with storing the previous one (a writer
    thread; the database driver releases the GIL while it waits for the server). Batches are
    stored in file order, one transaction each; the first storage error stops the import and is
    raised, with every batch before it committed.
    """
    tune_for_ingestion()
    report = ImportReport()
    started = time.perf_counter()
    with path.open("rb") as handle, _BatchWriter(engine, report) as writer:
        batch: list[ParsedEvent] = []
        for parsed in read_ndjson(handle, validator or EventValidator(), report):
            batch.append(parsed)
            if len(batch) >= batch_size:
                writer.put(batch)
                batch = []
        if batch:
            writer.put(batch)
    report.seconds = time.perf_counter() - started
    return report


class _BatchWriter:
    """Stores batches in order on one background thread; at most two wait in its queue."""

    def __init__(self, engine: Engine, report: ImportReport) -> None:
        self.engine = engine
        self.report = report
        self.ids = IdCache()
        self.error: BaseException | None = None
        self._queue: queue.Queue[list[ParsedEvent] | None] = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._run, name="mllineage-import", daemon=True)

    def __enter__(self) -> _BatchWriter:
        self._thread.start()
        return self

    def put(self, batch: list[ParsedEvent]) -> None:
        self._raise_error()
        self._queue.put(batch)

    def __exit__(self, *exc_info: object) -> None:
        self._queue.put(None)
        self._thread.join()
        if exc_info[0] is None:
            self._raise_error()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self.error is not None:
                continue  # drain: the reader stops at its next put
            try:
                new = store_committed(self.engine, batch, self.ids)
            except BaseException as exc:  # re-raised in the reading thread
                self.error = exc
                continue
            stored = sum(new)
            self.report.stored += stored
            self.report.duplicates += len(new) - stored
