"""What deriving the inferred edges adds to ingestion (``ingest.inferred``, after each batch).

The same events are stored twice, ``--batch`` events per transaction through ``store_events``
(no HTTP), each time into a fresh database: once as shipped (projection, then the derivation of
``inferred_io`` for the runs the batch touched) and once with the derivation switched off (the
baseline, measured in the same run). The events: the benchmark workload (``bench.workload``,
whose Airflow runs carry ``parent`` facets but no task dependencies) interleaved with Airflow DAG
runs shaped like the provider's (``airflow`` run facet with task dependencies, ``parent`` facet;
a chain of SQL tasks with a hook-reading Python task in the middle, so every DAG run yields
inferred edges). Prints wall time per event for both, the ratio, and the derivation's own share.
Usage::

    .venv/bin/python -m bench.inferred --scale small --backend both
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from bench.databases import Backend, fresh_database, postgres_available
from bench.workload import generate_events
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.db.tables import inferred_io_t
from mllineage.collector.ingest import store
from mllineage.collector.ingest.store import IdCache, store_events
from mllineage.collector.ingest.validate import EventValidator, ParsedEvent

PRODUCER = "https://github.com/apache/airflow/tree/providers-openlineage/1.14.0"
TASKS = 8  # per DAG run: extract_0 .. extract_2 >> train (hook, no I/O) >> report_0 .. report_3


def airflow_dag_runs(count: int, start: datetime) -> Iterator[dict[str, Any]]:
    """``count`` DAG runs of one DAG, as the provider reports them (START + COMPLETE per task)."""
    names = [f"extract_{i}" for i in range(3)] + ["train"] + [f"report_{i}" for i in range(4)]
    for n in range(count):
        dag_run = str(uuid.uuid5(uuid.NAMESPACE_URL, f"dag-run-{n}"))
        at = start + timedelta(hours=n)
        for index, task in enumerate(names):
            upstream = names[:3] if task == "train" else (["train"] if index > 3 else [])
            downstream = ["train"] if index < 3 else (names[4:] if task == "train" else [])
            run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"dag-run-{n}-{task}"))
            io: dict[str, list[dict[str, Any]]] = {"inputs": [], "outputs": []}
            if index < 3:
                io = {
                    "inputs": [_ds(f"raw.table_{index}")],
                    "outputs": [_ds(f"features.set_{index}")],
                }
            elif index > 3:
                io = {"inputs": [_ds(f"models.scores_{n % 50}")], "outputs": [_ds(task)]}
            for minute, kind in ((index, "START"), (index + 0.5, "COMPLETE")):
                yield _task_event(
                    kind,
                    at + timedelta(minutes=minute),
                    dag_run,
                    run_id,
                    task,
                    upstream,
                    downstream,
                    io,
                )


def _ds(name: str) -> dict[str, Any]:
    return {"namespace": "postgres://warehouse:5432", "name": name, "facets": {}}


def _task_event(
    kind: str,
    at: datetime,
    dag_run: str,
    run_id: str,
    task: str,
    upstream: list[str],
    downstream: list[str],
    io: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    base = {
        "_producer": PRODUCER,
        "_schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet",
    }
    airflow = {
        **base,
        "dag": {"dag_id": "bench_dag"},
        "task": {
            "task_id": task,
            "upstream_task_ids": repr(upstream),
            "downstream_task_ids": repr(downstream),
        },
    }
    parent = {
        **base,
        "job": {"namespace": "airflow", "name": "bench_dag"},
        "run": {"runId": dag_run},
    }
    return {
        "eventType": kind,
        "eventTime": at.isoformat(),
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id, "facets": {"airflow": airflow, "parent": parent}},
        "job": {"namespace": "airflow", "name": f"bench_dag.{task}", "facets": {}},
        **io,
    }


def events(scale: str, dag_runs: int) -> list[ParsedEvent]:
    validator = EventValidator()
    workload = [validator.validate(event) for event in generate_events(scale)]
    dags = [
        validator.validate(e) for e in airflow_dag_runs(dag_runs, datetime(2024, 1, 1, tzinfo=UTC))
    ]
    step = max(1, len(workload) // max(1, len(dags)))
    mixed: list[ParsedEvent] = []
    for index, parsed in enumerate(workload):
        mixed.append(parsed)
        if index % step == 0 and dags:
            mixed.append(dags.pop())
    return mixed + dags


def measure(
    backend: Backend, parsed: list[ParsedEvent], batch: int, workdir: Path, *, derive: bool
) -> tuple[float, float, int]:
    """Seconds storing everything, seconds inside the derivation, inferred rows at the end."""
    spent = [0.0]
    original = store.derive_inferred_edges  # type: ignore[attr-defined]

    def timed(conn: Connection, touched: Iterable[str]) -> None:
        started = time.perf_counter()
        if derive:
            original(conn, touched)
        spent[0] += time.perf_counter() - started

    store.derive_inferred_edges = timed  # type: ignore[attr-defined]  # measured in place
    try:
        with fresh_database(backend, "inferred", workdir) as db:
            engine = make_engine(db.url)
            upgrade(engine)
            ids = IdCache()
            received = datetime.now(UTC)
            started = time.perf_counter()
            for at in range(0, len(parsed), batch):
                with engine.begin() as conn:
                    result = store_events(
                        conn, parsed[at : at + batch], received_at=received, ids=ids
                    )
                ids.merge(result.learned)
            total = time.perf_counter() - started
            with engine.connect() as conn:
                rows = conn.execute(select(func.count()).select_from(inferred_io_t)).scalar_one()
            engine.dispose()
    finally:
        store.derive_inferred_edges = original  # type: ignore[attr-defined]
    return total, spent[0], rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--dag-runs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--workdir", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    backends: list[Backend] = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    parsed = events(args.scale, args.dag_runs)
    print(
        f"{len(parsed)} events ({args.dag_runs} Airflow DAG runs of {TASKS} tasks), batch {args.batch}"
    )
    print(
        "| backend | baseline us/event | with inferred us/event | ratio | derivation share | inferred rows |"
    )
    print("|---|---|---|---|---|---|")
    for backend in backends:
        if backend == "postgres" and postgres_available() is not None:
            print(f"| postgres | skipped: {postgres_available()} | | | | |")
            continue
        base, _, _ = measure(backend, parsed, args.batch, args.workdir, derive=False)
        total, spent, rows = measure(backend, parsed, args.batch, args.workdir, derive=True)
        per = 1e6 / len(parsed)
        print(
            f"| {backend} | {base * per:.0f} | {total * per:.0f} | {total / base:.2f}x "
            f"| {100 * spent / total:.1f} % | {rows:,} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
