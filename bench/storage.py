"""Bytes on disk per million events, by table: this tree against a baseline tree, in one run.

The first ``--events`` events of the workload (``--scale``, ``--seed``) are imported into a fresh
PostgreSQL database by each tree's own code (``mllineage`` of that tree first on ``PYTHONPATH``:
migrations to head, then ``import_ndjson`` with its projection), then ``VACUUM ANALYZE``. Per
table (partitions summed, indexes and TOAST included: ``pg_total_relation_size``) and for the
whole database (``pg_database_size``, which includes the ~8 MB of an empty database, and the
sum of the tables) the run prints bytes per million events and the ratio to
the raw JSONB of the same events (the lines ``COPY``'d into a bare ``jsonb`` table, server
default compression). One JSON document on stdout, a table on stderr. Usage::

    .venv/bin/python -m bench.storage --scale medium --events 100000 --baseline /work/main
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from bench.context import Context
from bench.databases import fresh_database
from bench.import_bulk import copy_raw

#: Run by each tree's interpreter path: migrate, import, project (argv: url, events file).
_LOADER = """
import sys
from pathlib import Path
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.ingest.bulk import import_ndjson
engine = make_engine(sys.argv[1])
upgrade(engine)
report = import_ndjson(Path(sys.argv[2]), engine)
print(report, file=sys.stderr)
"""

#: Bytes per table, partitions summed into their parent.
_TABLE_SIZES = """
SELECT c.relname,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT sum(pg_total_relation_size(t.relid)) FROM pg_partition_tree(c.oid) t)
            ELSE pg_total_relation_size(c.oid) END::bigint
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""

_PACKAGES = ("client", "collector", "emitter", "schemas")


def _package_root(tree: Path, scratch: Path) -> Path:
    """A directory holding ``mllineage`` made of ``tree``'s packages (symlinks)."""
    root = scratch / f"src-{abs(hash(str(tree)))}"
    package = root / "mllineage"
    package.mkdir(parents=True, exist_ok=True)
    for name in _PACKAGES:
        if (tree / name).is_dir() and not (package / name).exists():
            (package / name).symlink_to(tree / name)
    return root


def measure_tree(tree: Path, events: Path, scratch: Path, label: str) -> dict[str, int]:
    """Table -> bytes after ``tree`` imported ``events`` (plus ``"(database)"``)."""
    env = {**os.environ, "PYTHONPATH": str(_package_root(tree, scratch))}
    with fresh_database("postgres", f"storage_{label}", scratch) as db:
        subprocess.run(
            [sys.executable, "-c", _LOADER, db.url, str(events)],
            check=True,
            env=env,
            cwd=scratch,
            stdout=subprocess.DEVNULL,
        )
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            sizes = {str(name): int(size or 0) for name, size in conn.execute(_TABLE_SIZES)}
            database = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        sizes["(tables)"] = sum(sizes.values())
        sizes["(database)"] = int(database[0]) if database else 0
    return sizes


def raw_size(events: Path, scratch: Path) -> int:
    """Bytes of the events as one bare ``jsonb`` column (indexes: none)."""
    with fresh_database("postgres", "storage_raw", scratch) as db:
        copy_raw(db, events)
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE raw_events")
            row = conn.execute("SELECT pg_total_relation_size('raw_events')").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--baseline", type=Path, required=True, help="checkout of main")
    args = parser.parse_args()
    ctx = Context(scale=args.scale, seed=args.seed)
    mine = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        scratch = Path(tmp)
        events = scratch / "events.ndjson"
        with ctx.events_file().open("rb") as source, events.open("wb") as out:
            out.writelines(itertools.islice(source, args.events))
        count = sum(1 for _ in events.open("rb"))
        ctx.log(f"{count} events; raw jsonb ...")
        raw = raw_size(events, scratch)
        results: dict[str, dict[str, int]] = {}
        for label, tree in (("baseline", args.baseline.resolve()), ("this", mine)):
            ctx.log(f"importing with {tree} ...")
            results[label] = measure_tree(tree, events, scratch, label)
    per_million = 1_000_000 / count
    report: dict[str, Any] = {
        "events": count,
        "raw_jsonb_bytes_per_1m": round(raw * per_million),
        "trees": {
            label: {
                table: {"bytes_per_1m": round(size * per_million), "x_raw": round(size / raw, 3)}
                for table, size in sorted(sizes.items(), key=lambda item: -item[1])
            }
            for label, sizes in results.items()
        },
    }
    _print_table(results, raw, per_million)
    print(json.dumps(report, indent=1))


def _print_table(results: dict[str, dict[str, int]], raw: int, per_million: float) -> None:
    tables = sorted(
        set(results["baseline"]) | set(results["this"]),
        key=lambda t: -max(results["baseline"].get(t, 0), results["this"].get(t, 0)),
    )
    mb = per_million / 1e6
    print(f"raw jsonb: {raw * mb:,.0f} MB per 1M events", file=sys.stderr)
    print(
        f"{'table':<28}{'baseline MB/1M':>16}{'x raw':>8}{'this MB/1M':>14}{'x raw':>8}",
        file=sys.stderr,
    )
    for table in tables:
        base, this = results["baseline"].get(table, 0), results["this"].get(table, 0)
        print(
            f"{table:<28}{base * mb:>16,.0f}{base / raw:>8.2f}{this * mb:>14,.0f}{this / raw:>8.2f}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
