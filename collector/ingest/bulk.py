"""Bulk import of NDJSON event files (``mllineage import``): the fast path around the HTTP API.

Events are read line by line, validated exactly as over HTTP, and stored through the same
projection in large transactions (``batch_size`` events each), so an import is idempotent and
produces the same graph as posting the events one by one. Invalid lines are reported with their
line number and skipped; they never abort the import or touch what is stored.
"""

from __future__ import annotations

import logging
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
    """Import ``path`` (NDJSON, one event per line; ``-`` is not supported here) into ``engine``."""
    tune_for_ingestion()
    report = ImportReport()
    ids = IdCache()
    started = time.perf_counter()
    with path.open("rb") as handle:
        batch: list[ParsedEvent] = []
        for parsed in read_ndjson(handle, validator or EventValidator(), report):
            batch.append(parsed)
            if len(batch) >= batch_size:
                _store(engine, batch, report, ids)
                batch = []
        if batch:
            _store(engine, batch, report, ids)
    report.seconds = time.perf_counter() - started
    return report


def _store(engine: Engine, batch: list[ParsedEvent], report: ImportReport, ids: IdCache) -> None:
    new = store_committed(engine, batch, ids)
    stored = sum(new)
    report.stored += stored
    report.duplicates += len(new) - stored
