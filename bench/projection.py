"""Projection throughput: the Python fold against the in-database SQL program, same batches.

For each batch size, two fresh PostgreSQL databases get the same workload events into the raw
log (untimed); then each projects them, batch by batch, one transaction per batch (commit
included): one through the Python fold (``store.python_fold.project_python``, what ingestion runs
after the raw insert), one through ``mllineage_project`` (``pg_projection``). Events
per second of each and their ratio are printed; both graphs are then compared row for row.

A second figure puts the projection in an import: the events as NDJSON, copied raw into a bare
one-column table (the ceiling ``bench.import_bulk`` uses) against read + validate + raw-log insert
+ SQL projection per batch, in one process. Usage::

    .venv/bin/python -m bench.projection --scale medium --events 20000 --batches 1000,5000
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import orjson
from sqlalchemy import Connection, Engine, text

from bench.databases import Database, fresh_database
from bench.import_bulk import copy_raw
from bench.workload import generate_events
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.ingest.pg_projection import project_in_database
from mllineage.collector.ingest.store import RawBatch, StoreContext
from mllineage.collector.ingest.store.python_fold import project_python
from mllineage.collector.ingest.store.raw_log import insert_raw
from mllineage.collector.ingest.validate import EventValidator, ParsedEvent

Projector = Callable[[Connection, Sequence[ParsedEvent], datetime], None]


def project_by_fold(conn: Connection, batch: Sequence[ParsedEvent], now: datetime) -> None:
    project_python(StoreContext.open(conn), RawBatch.of({p.digest: p for p in batch}, now))


def project_by_sql(conn: Connection, batch: Sequence[ParsedEvent], now: datetime) -> None:
    project_in_database(conn, sorted(parsed.digest for parsed in batch), now=now)


def _batches(events: Sequence[ParsedEvent], size: int) -> list[Sequence[ParsedEvent]]:
    return [events[start : start + size] for start in range(0, len(events), size)]


def load_raw(engine: Engine, events: Sequence[ParsedEvent], now: datetime) -> None:
    for batch in _batches(events, 5_000):
        with engine.begin() as conn:
            insert_raw(StoreContext.open(conn), batch, now)


@dataclass
class Timing:
    """Wall seconds, and CPU seconds of this process and of the server backend that served it
    (read from ``/proc``: the server runs on this machine). CPU time is what a projection costs
    whatever else the machine is doing; wall time is what it took here."""

    wall: float
    client_cpu: float
    server_cpu: float


def backend_cpu_seconds(conn: Connection) -> float:
    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def time_projection(
    engine: Engine, events: Sequence[ParsedEvent], size: int, how: Projector
) -> Timing:
    """Project ``events`` in batches of ``size``, one committed transaction each (one pooled
    connection, so one server backend does all the work)."""
    now = datetime.now(UTC)
    with engine.connect() as conn:
        server_started = backend_cpu_seconds(conn)
    started, cpu_started = time.perf_counter(), time.process_time()
    for batch in _batches(events, size):
        with engine.begin() as conn:
            how(conn, batch, now)
    wall, client_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    with engine.connect() as conn:
        server_cpu = backend_cpu_seconds(conn) - server_started
    return Timing(wall, client_cpu, server_cpu)


def graph_fingerprint(engine: Engine) -> dict[str, int]:
    """Rows per graph table (the differential test compares contents; this is a cheap check)."""
    tables = (
        "datasets",
        "dataset_facets",
        "dataset_versions",
        "column_lineage",
        "dataset_tags",
        "jobs",
        "job_facets",
        "job_edges",
        "runs",
        "run_facets",
        "run_io",
    )
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def bench_projection(events: Sequence[ParsedEvent], sizes: Sequence[int], workdir: Path) -> None:
    for size in sizes:
        timings: dict[str, Timing] = {}
        counts: dict[str, dict[str, int]] = {}
        for name, how in (("python fold", project_by_fold), ("sql program", project_by_sql)):
            with fresh_database("postgres", "projection", workdir) as db:
                engine = make_engine(db.url, pool_size=1)
                upgrade(engine)
                load_raw(engine, events, datetime.now(UTC))
                timings[name] = time_projection(engine, events, size, how)
                counts[name] = graph_fingerprint(engine)
                engine.dispose()
        fold, sql = timings["python fold"], timings["sql program"]
        same = "same row counts" if counts["python fold"] == counts["sql program"] else "DIFFER"
        fold_cpu, sql_cpu = fold.client_cpu + fold.server_cpu, sql.client_cpu + sql.server_cpu
        print(
            f"projection, batch {size:>5,}: python fold {len(events) / fold.wall:>6,.0f} ev/s"
            f" ({fold.wall:.1f} s), sql program {len(events) / sql.wall:>6,.0f} ev/s"
            f" ({sql.wall:.1f} s): {fold.wall / sql.wall:.2f}x; CPU per event: fold"
            f" {fold.client_cpu / len(events) * 1e3:.2f} ms client +"
            f" {fold.server_cpu / len(events) * 1e3:.2f} ms server, sql"
            f" {sql.client_cpu / len(events) * 1e3:.2f} + {sql.server_cpu / len(events) * 1e3:.2f}"
            f" ms: {fold_cpu / sql_cpu:.2f}x; {same}",
            flush=True,
        )


def import_with_sql(db: Database, ndjson: Path, size: int) -> float:
    """Read + validate + raw-log insert + SQL projection per ``size`` events; seconds."""
    engine = make_engine(db.url, pool_size=1)
    upgrade(engine)
    validator = EventValidator()
    started = time.perf_counter()
    with ndjson.open("rb") as lines:
        while chunk := list(islice(lines, size)):
            batch = [validator.validate(orjson.loads(line)) for line in chunk]
            now = datetime.now(UTC)
            with engine.begin() as conn:
                fresh = insert_raw(StoreContext.open(conn), batch, now)
                project_in_database(conn, sorted(fresh), now=now)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def bench_import(events: Sequence[ParsedEvent], size: int, workdir: Path) -> None:
    ndjson = workdir / "projection-events.ndjson"
    ndjson.write_bytes(b"".join(parsed.canonical + b"\n" for parsed in events))
    with fresh_database("postgres", "copy", workdir) as raw:
        rows, copy_seconds = copy_raw(raw, ndjson)
    with fresh_database("postgres", "import_sql", workdir) as db:
        import_seconds = import_with_sql(db, ndjson, size)
        stored = db.count("lineage_events")
    copy_eps, import_eps = rows / copy_seconds, len(events) / import_seconds
    print(
        f"import, batch {size:,}: raw COPY {copy_eps:>8,.0f} ev/s, validate + raw log + sql"
        f" projection {import_eps:>7,.0f} ev/s: {import_eps / copy_eps:.2f}x"
        f" ({stored:,} stored)",
        flush=True,
    )
    ndjson.unlink()


def validated_events(scale: str, seed: int, count: int) -> list[ParsedEvent]:
    """The first ``count`` events of the ``scale`` workload, validated as ingestion does."""
    validator = EventValidator()
    return [validator.validate(e) for e in islice(generate_events(scale, seed), count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batches", default="1000,5000")
    parser.add_argument("--workdir", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    events = validated_events(args.scale, args.seed, args.events)
    sizes = [int(size) for size in args.batches.split(",")]
    print(f"{len(events):,} events of the {args.scale} workload (seed {args.seed})", flush=True)
    bench_projection(events, sizes, args.workdir)
    bench_import(events, max(sizes), args.workdir)


if __name__ == "__main__":
    main()
