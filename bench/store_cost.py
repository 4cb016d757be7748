"""What one ingest transaction costs, statement by statement (no HTTP): the group-commit view.

A fresh database is loaded with the first ``--prefix`` events of the workload (``mllineage``'s own
importer, then ``ANALYZE``), so ids, facets and runs already exist as in a collector that has been
running for a while. Then the next events are stored through ``store_committed`` (raw log +
projection in one transaction: what the ingest path plus the projector do together), ``--batch``
events per transaction, and the run prints per transaction: wall time,
statements, time inside the driver's ``execute`` (round trip + server) and the rest (Python:
folding, building rows, SQLAlchemy); per event: validation time; and the statements that cost
most. Usage::

    .venv/bin/python -m bench.store_cost --scale medium --batch 16
    .venv/bin/python -m bench.store_cost --scale medium --batch 1000 --events 8000
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event

from bench.context import Context
from bench.databases import Backend, fresh_database
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.ingest.bulk import import_ndjson
from mllineage.collector.ingest.store import IdCache, store_events
from mllineage.collector.ingest.validate import EventValidator, ParsedEvent


def store_committed(engine: Any, events: list[ParsedEvent], ids: IdCache) -> None:
    """Raw log + projection of ``events`` in one committed transaction."""
    with engine.begin() as conn:
        result = store_events(conn, events, received_at=datetime.now(UTC), ids=ids)
    ids.merge(result.learned)


class StatementClock:
    """Sums time spent in the DBAPI ``execute`` per statement kind (first three SQL words)."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self._started = 0.0

    def attach(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        entry = self.totals[" ".join(statement.split()[:3])[:60]]
        entry[0] += 1
        entry[1] += time.perf_counter() - self._started


def measure(
    backend: Backend, events_file: Path, *, prefix: int, count: int, batch: int, workdir: Path
) -> str:
    with fresh_database(backend, "store-cost", workdir) as db:
        engine = make_engine(db.url)
        upgrade(engine)
        head = workdir / "store-cost-prefix.ndjson"
        with events_file.open("rb") as source, head.open("wb") as out:
            out.writelines(itertools.islice(source, prefix))
        import_ndjson(head, engine)
        db.analyze()
        with events_file.open("rb") as source:
            lines = list(itertools.islice(source, prefix, prefix + count + batch))
        validator = EventValidator()
        started = time.perf_counter()
        parsed = [validator.validate(orjson.loads(line)) for line in lines]
        validate_us = 1e6 * (time.perf_counter() - started) / len(parsed)
        ids = IdCache()
        store_committed(engine, parsed[:batch], ids)  # warms the id cache and statement caches
        clock = StatementClock()
        clock.attach(engine)
        walls = []
        batches = [parsed[i : i + batch] for i in range(batch, len(parsed), batch)]
        for events in batches:
            started = time.perf_counter()
            store_committed(engine, events, ids)
            walls.append(time.perf_counter() - started)
        engine.dispose()
    n = len(batches)
    statements = sum(c for c, _ in clock.totals.values()) / n
    in_driver = 1000 * sum(t for _, t in clock.totals.values()) / n
    wall = 1000 * statistics.mean(walls)
    lines_out = [
        f"{backend}, {batch} events per transaction, {n} transactions after {prefix:,} events:",
        f"  {1000 * statistics.median(walls):.1f} ms median, {wall:.1f} ms mean per transaction "
        f"-> {batch * n / sum(walls):,.0f} events/s",
        f"  {statements:.1f} statements; {in_driver:.1f} ms in execute (round trip + server), "
        f"{wall - in_driver:.1f} ms elsewhere (Python)",
        f"  validation (not in the above): {validate_us:.0f} us per event",
        "  costliest statements (ms per transaction, executions):",
    ]
    ranked = sorted(clock.totals.items(), key=lambda kv: -kv[1][1])[:12]
    lines_out += [f"    {1000 * t / n:7.2f}  {c / n:4.1f}x  {name}" for name, (c, t) in ranked]
    return "\n".join(lines_out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--prefix", type=int, default=20_000, help="events loaded first")
    parser.add_argument("--events", type=int, default=1_600, help="events timed")
    parser.add_argument("--batch", type=int, default=16, help="events per transaction")
    args = parser.parse_args(argv)
    ctx = Context(scale=args.scale, backend=args.backend, seed=args.seed)
    print(
        measure(
            args.backend,
            ctx.events_file(),
            prefix=args.prefix,
            count=args.events,
            batch=args.batch,
            workdir=ctx.results,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
