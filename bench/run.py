"""The one entry point: run the selected benchmarks, print a Markdown results table, save JSON.

    python -m bench.run --scale small|medium|large [--only ingest,batch,import,query,rss]
                        [--backend postgres|sqlite|both] [--duration S] [--profile]
                        [--soak-minutes M]

Each benchmark measures its baseline in the same run and reports figure, baseline, ratio, target
and whether the target is met. Results go to ``bench/results/<time>-<scale>.json`` (gitignored).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.context import RESULTS, Context
from bench.databases import Backend, existing_database, postgres_available
from bench.import_bulk import bench_import
from bench.ingest_http import bench_batch, bench_ingest
from bench.memory import bench_rss
from bench.queries import bench_query
from bench.report import Figure, machine_info, markdown_table, write_results
from bench.workload import SCALES
from bench.wrk import wrk_binary

BENCHES: dict[str, Callable[[Context], list[Figure]]] = {
    "ingest": bench_ingest,
    "batch": bench_batch,
    "import": bench_import,
    "query": bench_query,
    "rss": bench_rss,
}
NEEDS_WRK = {"ingest", "batch", "rss"}
DEFAULT_DURATION = {"small": 2.0, "medium": 15.0, "large": 30.0}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated benchmarks")
    parser.add_argument("--backend", choices=("postgres", "sqlite", "both"), default="postgres")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--duration", type=float, help="seconds of wrk load per measurement")
    parser.add_argument("--warmup", type=float, help="seconds of load before each measurement")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (both servers)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch-connections", type=int, default=4)
    parser.add_argument("--batch-sizes", default="100,1000")
    parser.add_argument("--query-samples", type=int, help="start nodes per query kind")
    parser.add_argument("--profile", action="store_true", help="py-spy the collector under load")
    parser.add_argument("--soak-minutes", type=float, default=0.0)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--keep-databases",
        action="store_true",
        help="keep the import benchmark's Postgres database (its name is printed)",
    )
    parser.add_argument(
        "--graph-database",
        metavar="NAME",
        help="query an existing Postgres database holding this scale's workload (e.g. one kept "
        "with --keep-databases) instead of importing it again",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(only) - set(BENCHES)
    if unknown:
        raise SystemExit(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    backends: list[Backend] = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    small = args.scale == "small"
    figures: list[Figure] = []
    started = time.perf_counter()
    for backend in backends:
        ctx = Context(
            scale=args.scale,
            backend=backend,
            seed=args.seed,
            results=args.results,
            duration=args.duration or DEFAULT_DURATION.get(args.scale, 30.0),
            warmup=args.warmup if args.warmup is not None else (0.0 if small else 3.0),
            connections=args.connections,
            batch_connections=args.batch_connections,
            batch_sizes=tuple(int(b) for b in args.batch_sizes.split(",")),
            workers=args.workers,
            profile=args.profile,
            soak_minutes=args.soak_minutes,
            query_samples=args.query_samples or (20 if small else 200),
            keep_databases=args.keep_databases,
        )
        if args.graph_database and backend == "postgres":
            ctx.graph = existing_database(args.graph_database)
            ctx.graph_events = ctx.graph.count("event_digests")
        with ctx.stack:
            for name in only:
                reason = _unavailable(name, backend)
                if reason:
                    figures.append(Figure(name, f"{name}, {backend}", None, "", skipped=reason))
                    continue
                bench_started = time.perf_counter()
                figures += BENCHES[name](ctx)
                ctx.log(f"{name} done in {time.perf_counter() - bench_started:.0f}s")
    table = markdown_table(figures)
    path = write_results(
        figures,
        directory=args.results,
        scale=args.scale,
        argv=sys.argv[:1] + (argv or sys.argv[1:]),
    )
    machine = machine_info()
    print(table)
    print(
        f"\nmachine: {machine['nproc']} cores, {machine['cpu']}, {machine['ram_gb']} GB RAM, "
        f"Postgres {machine.get('postgres', {}).get('server_version', 'n/a')}; "
        f"total {time.perf_counter() - started:.0f}s; results: {path}"
    )
    return 0


def _unavailable(name: str, backend: Backend) -> str:
    if name in NEEDS_WRK and wrk_binary() is None:
        return "wrk is not installed"
    if backend == "postgres":
        return postgres_available() or ""
    return ""


if __name__ == "__main__":
    raise SystemExit(main())
