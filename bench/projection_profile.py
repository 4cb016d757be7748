"""Where the SQL projection program spends its time: each statement of ``mllineage_project``,
timed on large batches of the workload.

A fresh PostgreSQL database gets the first ``--events`` events of the workload into the raw log
(untimed); then they are projected in batches of ``--batch`` (the import's projector batch), one
transaction each, with ``auto_explain`` loaded in the session (``log_nested_statements``,
``log_analyze`` without per-node timing, ``client_min_messages = log``): every statement the
function runs reports its duration to this client, which sums them per statement over the batches.
pg_stat_statements would do the same but needs ``shared_preload_libraries`` (a server restart);
``auto_explain`` can be loaded by a superuser session. Statements the executor does not run
(``ANALYZE``, ``CREATE INDEX``, ``DROP TABLE``) are not reported: they are the remainder between
the function's total and the sum. Instrumentation costs a little; shares are what matter::

    .venv/bin/python -m bench.projection_profile --scale medium --events 40000 --batch 20000
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text

from bench.databases import fresh_database
from bench.projection import load_raw, validated_events
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.ingest.pg_projection import project_in_database

_DURATION = re.compile(r"duration: ([0-9.]+) ms\s+plan:\s*\nQuery Text: (.*?)\n(?=\S)", re.S)
_ROWS = re.compile(r"\(actual rows=(\d+)")


def label(statement: str) -> str:
    """A statement's name in the report: its first line of code, and the target table."""
    lines = [
        line.strip()
        for line in statement.splitlines()
        if line.strip() and not line.strip().startswith("--")
    ]
    head = " ".join(lines[:3])
    head = re.sub(r"\s+", " ", head)
    return head[:110]


def profile_batch(engine: Engine, digests: list[bytes]) -> tuple[list[str], float]:
    """Project ``digests`` in one committed transaction with ``auto_explain`` reporting every
    statement to this client; (the reports, wall seconds of the call)."""
    reports: list[str] = []

    def collect(diagnostic: psycopg.errors.Diagnostic) -> None:
        reports.append(diagnostic.message_primary or "")

    # The call's own report arrives when its portal closes, at commit: the handler stays until
    # then.
    with engine.begin() as conn:
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        driver.add_notice_handler(collect)
        conn.execute(text("LOAD 'auto_explain'"))
        for setting, value in (
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_analyze", "on"),
            ("auto_explain.log_timing", "off"),
            ("client_min_messages", "log"),
        ):
            conn.execute(text(f"SET LOCAL {setting} = '{value}'"))
        started = time.perf_counter()
        project_in_database(conn, digests, now=datetime.now(UTC))
        wall = time.perf_counter() - started
    driver.remove_notice_handler(collect)
    return reports, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=25, help="statements listed")
    parser.add_argument("--workdir", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    events = validated_events(args.scale, args.seed, args.events)
    print(f"{len(events):,} events of the {args.scale} workload (seed {args.seed})", flush=True)
    totals: dict[str, float] = defaultdict(float)
    rows: dict[str, int] = defaultdict(int)
    order: dict[str, int] = {}
    function_ms = 0.0
    with fresh_database("postgres", "profile", args.workdir) as db:
        engine = make_engine(db.url, pool_size=1)
        upgrade(engine)
        load_raw(engine, events, datetime.now(UTC))
        for start in range(0, len(events), args.batch):
            batch = events[start : start + args.batch]
            reports, wall = profile_batch(engine, [p.digest for p in batch])
            batch_ms = 0.0
            for report in reports:
                found = _DURATION.search(report + "\nX")
                if not found:
                    continue
                ms, statement = float(found.group(1)), found.group(2)
                if "mllineage_project(" in statement:
                    function_ms += ms
                    batch_ms = ms
                    continue
                name = label(statement)
                order.setdefault(name, len(order))
                totals[name] += ms
                top_rows = _ROWS.search(report)
                rows[name] += int(top_rows.group(1)) if top_rows else 0
            print(
                f"batch {start // args.batch + 1}: {len(batch):,} events, function"
                f" {batch_ms / 1e3:.1f} s ({wall:.1f} s wall,"
                f" {batch_ms * 1e3 / len(batch):.0f} us/event)",
                flush=True,
            )
        engine.dispose()
    measured = sum(totals.values())
    print(
        f"\nall batches: function {function_ms / 1e3:.1f} s; statements reported"
        f" {measured / 1e3:.1f} s; rest (ANALYZE, CREATE INDEX, DROP, plpgsql)"
        f" {(function_ms - measured) / 1e3:.1f} s\n"
    )
    print("| # | statement | ms | share | us/event | rows |")
    print("|---|---|---:|---:|---:|---:|")
    ranked = sorted(totals, key=lambda name: totals[name], reverse=True)
    for name in ranked[: args.top]:
        print(
            f"| {order[name] + 1} | `{name}` | {totals[name]:,.0f} |"
            f" {totals[name] / function_ms:.1%} | {totals[name] * 1e3 / len(events):.0f} |"
            f" {rows[name]:,} |"
        )


if __name__ == "__main__":
    main()
