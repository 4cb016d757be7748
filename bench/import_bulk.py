"""Bulk import benchmark: ``mllineage import FILE.ndjson`` against the database ceiling.

Baseline (measured first, same file, same server, a fresh database of its own): the events copied
raw into a bare one-column table: ``COPY raw_events (payload jsonb) FROM STDIN`` through psycopg's
``cursor.copy`` on Postgres; one ``executemany`` INSERT in one transaction on SQLite. That is the
most any importer could do without parsing, validating or projecting anything.

The imported database can be kept (``Context.graph``) for the query benchmark, and gives the
database-size-per-million-events figures.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.context import Context
from bench.databases import Database, fresh_database
from bench.report import Figure
from bench.servers import BIN

IMPORT_TARGET = 0.4  # share of the raw COPY rate, Postgres


@dataclass
class ImportRun:
    events: int
    stored: int
    rejected: int
    seconds: float
    peak_rss_bytes: int
    output: str

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def import_available() -> str | None:
    """None when ``mllineage import`` exists, else why not."""
    probe = subprocess.run(
        [str(BIN / "mllineage"), "import", "--help"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return "`mllineage import` is not available yet"
    return None


def copy_raw(db: Database, events: Path) -> tuple[int, float]:
    """Copy every line of ``events`` into a bare one-column table; (rows, seconds)."""
    if db.backend == "sqlite":
        assert db.path is not None
        with sqlite3.connect(db.path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE raw_events (payload TEXT NOT NULL)")
            started = time.perf_counter()
            with events.open("rb") as lines:
                conn.executemany(
                    "INSERT INTO raw_events (payload) VALUES (?)",
                    ((line.rstrip(b"\n").decode(),) for line in lines),
                )
            conn.commit()
            seconds = time.perf_counter() - started
        return db.count("raw_events"), seconds
    with psycopg.connect(db.dsn) as conn:
        conn.execute("CREATE TABLE raw_events (payload jsonb NOT NULL)")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY raw_events (payload) FROM STDIN") as copy,
            events.open("rb") as source,
        ):
            # COPY text format: one row per line; JSON never holds a raw tab or newline, and
            # escaping each backslash does not care where a chunk boundary falls.
            while chunk := source.read(8 << 20):
                copy.write(chunk.replace(b"\\", b"\\\\"))
        conn.commit()
        seconds = time.perf_counter() - started
    return db.count("raw_events"), seconds


def run_import(db: Database, events: Path, *, log: Path) -> ImportRun:
    """Migrate, then time ``mllineage import`` (a process of its own, as a user runs it)."""
    mllineage = str(BIN / "mllineage")
    subprocess.run(
        [mllineage, "db", "upgrade", "--database-url", db.url], check=True, capture_output=True
    )
    command = [mllineage, "import", str(events), "--database-url", db.url, "--no-migrate"]
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    output = log.read_text(errors="replace")
    if process.returncode not in (0, 1):  # 1 = some lines rejected, still imported
        raise RuntimeError(f"mllineage import failed ({process.returncode}):\n{output[-2000:]}")
    rejected = re.search(r"(\d+) rejected", output)
    return ImportRun(
        events=sum(1 for _ in events.open("rb")),
        stored=db.count("lineage_events"),
        rejected=int(rejected.group(1)) if rejected else 0,
        seconds=seconds,
        peak_rss_bytes=usage.ru_maxrss * 1024,
        output=output[-2000:],
    )


def import_graph(ctx: Context, db: Database) -> ImportRun:
    """Load the whole workload into ``db`` with ``mllineage import`` (used by the query bench)."""
    return run_import(db, ctx.events_file(), log=ctx.path(f"import-{ctx.backend}.log"))


def bench_import(ctx: Context) -> list[Figure]:
    events = ctx.events_file()
    total = ctx.meta()["events"]
    ctx.log(f"import: raw COPY baseline of {total:,} events")
    with fresh_database(ctx.backend, "copy", ctx.results) as raw:
        rows, copy_seconds = copy_raw(raw, events)
        raw_size = raw.size_bytes()
    copy_eps = rows / copy_seconds
    baseline_name = "raw COPY" if ctx.backend == "postgres" else "raw executemany"
    target = f">= {IMPORT_TARGET}x {baseline_name}" if ctx.backend == "postgres" else ""
    missing = import_available()
    if missing:
        return [
            Figure(
                "import",
                f"bulk import, {ctx.backend}",
                None,
                "events/s",
                baseline=copy_eps,
                baseline_name=baseline_name,
                target=target,
                skipped=missing,
                detail={"copy_seconds": copy_seconds, "rows": rows},
            )
        ]
    ctx.log("import: mllineage import")
    db_cm = fresh_database(ctx.backend, "import", ctx.results, keep=ctx.keep_databases)
    db = ctx.stack.enter_context(db_cm)
    run = import_graph(ctx, db)
    ctx.graph, ctx.graph_events = db, run.stored
    size, tables = db.size_bytes(), db.table_sizes()
    eps = run.events_per_second
    ok = run.rejected == 0 and run.stored == total
    figures = [
        Figure(
            "import",
            f"bulk import ({total:,} events), {ctx.backend}",
            eps,
            "events/s",
            baseline=copy_eps,
            baseline_name=baseline_name,
            target=target,
            met=(eps / copy_eps >= IMPORT_TARGET and ok) if target else None,
            detail={
                "seconds": run.seconds,
                "events": run.events,
                "stored": run.stored,
                "rejected": run.rejected,
                "copy_seconds": copy_seconds,
                "import_peak_rss_bytes": run.peak_rss_bytes,
                "output_tail": run.output,
            },
        ),
        Figure(
            "dbsize",
            f"database size per 1M events, {ctx.backend}",
            size / max(run.stored, 1) * 1e6 / 1e9,
            "GB",
            baseline=raw_size / max(rows, 1) * 1e6 / 1e9,
            baseline_name="raw JSON table",
            detail={"bytes": size, "events": run.stored, "tables": tables, "raw_bytes": raw_size},
        ),
    ]
    if not ok:
        figures[0].detail["warning"] = f"{run.stored} of {total} events stored"
    return figures
