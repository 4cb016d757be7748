"""What following inferred edges costs the history reads (``asOf`` and ``scope=versions`` walks).

One graph, stored once per backend in a fresh database through ``store_events`` (no HTTP): the
small benchmark workload (``bench.workload``: no task dependencies, so no inferred edge on its
paths) plus ``--dag-runs`` hourly runs of two Airflow DAGs shaped like the provider's (``airflow``
run facet with task dependencies, ``parent`` facet), each of ``--chains`` parallel chains of
``--stages`` tasks from one raw table to one model per chain. In the hook DAG (``chains``) every
other task reads through a hook (no declared inputs), so each chain crosses ``stages // 2``
inferred edges; its twin (``twins``) declares every input: the same walks over declared edges.

Each question is asked through the ASGI app (in process, as ``bench.read_ab``), in turn on the
same random starts: on the hook DAG with ``edges=declared`` (stops at the first hook task) and
``edges=all`` (the default: the whole chain, crossing inferred edges); on the twin DAG with
``edges=all`` (the same answer size, declared hops only: what an inferred hop costs beyond a
declared one); on the workload with both (no inferred edge on the way: the pure overhead of
looking for them). Cells: median / minimum ms (rows of the answer). Usage::

    .venv/bin/python -m bench.inferred_reads --backend both
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from bench.databases import Backend, fresh_database, postgres_available
from bench.workload import HUB, MODEL_NS, generate_events
from mllineage.collector.app import create_app
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.db.tables import datasets_t, namespaces_t
from mllineage.collector.ingest.store import IdCache, store_events
from mllineage.collector.ingest.validate import EventValidator
from mllineage.collector.settings import Settings

PRODUCER = "https://github.com/apache/airflow/tree/providers-openlineage/1.14.0"
RUN_FACET = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet"
WAREHOUSE = "postgres://warehouse:5432"
MLFLOW = "mlflow://mlflow:5000"
DAG = "chains"
TWINS = "twins"
START = datetime(2024, 1, 1, tzinfo=UTC)
MAX_NODES = 100_000


def dag_runs(runs: int, chains: int, stages: int, *, dag: str) -> Iterator[dict[str, Any]]:
    """``runs`` hourly runs of DAG ``dag``: chain ``c`` is ``c_0 >> c_1 >> … >> c_{stages-1}``,
    ``c_0`` reading the raw table ``raw.<dag>``, the last stage writing model
    ``models/<dag>_c``. In DAG ``chains`` odd stages declare no inputs (a hook), so they read
    what the stage before wrote by inference; in DAG ``twins`` every stage declares its inputs
    (the same walks over declared edges only)."""
    hooks = dag == DAG
    for n in range(runs):
        dag_run = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{dag}-{n}"))
        at = START + timedelta(hours=n)
        for c in range(chains):
            for s in range(stages):
                task = f"c{c}_{s}"
                upstream = [f"c{c}_{s - 1}"] if s else []
                downstream = [f"c{c}_{s + 1}"] if s < stages - 1 else []
                read = f"raw.{dag}" if s == 0 else f"{dag}_{c}.stage_{s - 1}"
                inputs = [] if s % 2 and hooks else [_dataset(WAREHOUSE, read)]
                if s == stages - 1:
                    model = {"datasetType": {**_base(), "datasetType": "MODEL"}}
                    outputs = [_dataset(MLFLOW, f"models/{dag}_{c}", model)]
                else:
                    outputs = [_dataset(WAREHOUSE, f"{dag}_{c}.stage_{s}")]
                run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{dag}-{n}-{task}"))
                for minute, kind in ((s, "START"), (s + 0.5, "COMPLETE")):
                    airflow = {
                        **_base(),
                        "dag": {"dag_id": dag},
                        "task": {
                            "task_id": task,
                            "upstream_task_ids": repr(upstream),
                            "downstream_task_ids": repr(downstream),
                        },
                    }
                    parent = {
                        **_base(),
                        "job": {"namespace": "airflow", "name": dag},
                        "run": {"runId": dag_run},
                    }
                    yield {
                        "eventType": kind,
                        "eventTime": (at + timedelta(minutes=minute)).isoformat(),
                        "producer": PRODUCER,
                        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                        "run": {"runId": run_id, "facets": {"airflow": airflow, "parent": parent}},
                        "job": {"namespace": "airflow", "name": f"{dag}.{task}", "facets": {}},
                        "inputs": inputs,
                        "outputs": outputs,
                    }


def _base() -> dict[str, str]:
    return {"_producer": PRODUCER, "_schemaURL": RUN_FACET}


def _dataset(namespace: str, name: str, facets: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"namespace": namespace, "name": name, "facets": facets or {}}


def load(url: str, events: list[dict[str, Any]], batch: int) -> None:
    validator = EventValidator()
    parsed = [validator.validate(event) for event in events]
    engine = make_engine(url)
    upgrade(engine)
    ids = IdCache()
    received = datetime.now(UTC)
    for at in range(0, len(parsed), batch):
        with engine.begin() as conn:
            result = store_events(conn, parsed[at : at + batch], received_at=received, ids=ids)
        ids.merge(result.learned)
    engine.dispose()


#: A question: (path, parameters for a start in DAG ``dag`` (``None``: the workload's own)).
Question = tuple[str, Callable[[random.Random, str | None], dict[str, Any]]]


def questions(url: str, runs: int, chains: int, workload_middle: str) -> dict[str, Question]:
    middle = (START + timedelta(hours=runs // 2, minutes=30)).isoformat()
    engine = make_engine(url)
    with engine.connect() as conn:
        workload_models = [
            f"dataset:{MODEL_NS}:{name}"
            for (name,) in conn.execute(
                select(datasets_t.c.name)
                .join(namespaces_t, namespaces_t.c.id == datasets_t.c.namespace_id)
                .where(namespaces_t.c.name == MODEL_NS)
                .order_by(datasets_t.c.name)
            )
        ]
    engine.dispose()
    hub = f"dataset:{HUB[0]}:{HUB[1]}"

    def model(rng: random.Random, dag: str | None) -> str:
        if dag is None:
            return rng.choice(workload_models)
        return f"dataset:{MLFLOW}:models/{dag}_{rng.randrange(chains)}"

    def raw(dag: str | None) -> str:
        return hub if dag is None else f"dataset:{WAREHOUSE}:raw.{dag}"

    def when(dag: str | None) -> str:
        return workload_middle if dag is None else middle

    def deep(node: str) -> dict[str, Any]:
        return {"nodeId": node, "depth": 20, "maxNodes": MAX_NODES}

    return {
        "model lineage upstream, asOf": (
            "/api/v1/ml/lineage",
            lambda rng, dag: {**deep(model(rng, dag)), "direction": "upstream", "asOf": when(dag)},
        ),
        "model-lineage, version-pinned": (
            "/api/v1/ml/model-lineage",
            lambda rng, dag: deep(model(rng, dag)),
        ),
        "raw table impact, asOf": (
            "/api/v1/ml/impact",
            lambda rng, dag: {**deep(raw(dag)), "asOf": when(dag), "limit": 1_000_000},
        ),
        "raw table impact, scope=versions": (
            "/api/v1/ml/impact",
            lambda rng, dag: {**deep(raw(dag)), "scope": "versions", "limit": 1_000_000},
        ),
    }


#: What is asked, per question: (start DAG, edges); ``None``: the workload (no inferred edge).
VARIANTS = (
    (DAG, "declared"),
    (DAG, "all"),
    (TWINS, "all"),
    (None, "declared"),
    (None, "all"),
)


def measure(client: TestClient, question: Question, samples: int) -> dict[Any, dict[str, Any]]:
    """Every variant in turn on the same random starts (``samples`` rounds after one warm-up):
    medians, minima, rows and inferred edges of the last answer."""
    path, params = question
    times: dict[Any, list[float]] = {variant: [] for variant in VARIANTS}
    last: dict[Any, dict[str, Any]] = {}
    seeds = random.Random(1)
    for index in range(samples + 1):
        seed = seeds.random()
        for dag, edges in VARIANTS:
            chosen = params(random.Random(seed), dag)
            started = time.perf_counter()
            response = client.get(path, params={**chosen, "edges": edges})
            spent = (time.perf_counter() - started) * 1e3
            assert response.status_code == 200, response.text[:300]
            if index:
                times[(dag, edges)].append(spent)
            last[(dag, edges)] = response.json()
    return {
        variant: {
            "median_ms": statistics.median(times[variant]),
            "min_ms": min(times[variant]),
            "rows": len(last[variant]["rows"]),
            "inferred_edges": sum(1 for e in last[variant]["graph"]["edges"] if e["inferred"]),
        }
        for variant in VARIANTS
    }


def _cell(found: dict[str, Any]) -> str:
    return f"{found['median_ms']:.1f} / {found['min_ms']:.1f} ({found['rows']:,})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--dag-runs", type=int, default=40)
    parser.add_argument("--chains", type=int, default=10)
    parser.add_argument("--stages", type=int, default=8)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--workdir", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    workload = list(generate_events("small"))
    times = sorted(datetime.fromisoformat(str(e["eventTime"])) for e in workload)
    workload_middle = times[len(times) // 2].isoformat()
    events = [
        *workload,
        *dag_runs(args.dag_runs, args.chains, args.stages, dag=DAG),
        *dag_runs(args.dag_runs, args.chains, args.stages, dag=TWINS),
    ]
    backends: list[Backend] = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    print(
        f"{len(events)} events (small workload + {args.dag_runs} DAG runs of {args.chains} "
        f"chains x {args.stages} stages), {args.samples} samples per question and edges value"
    )
    print(
        "| backend | question | hook DAG, declared | hook DAG, all | all / declared "
        "| twin DAG (declared hops), all | hook / twin | inferred edges | workload, declared "
        "| workload, all | all / declared |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for backend in backends:
        if backend == "postgres" and postgres_available() is not None:
            print(f"| postgres | skipped: {postgres_available()} |" + " |" * 9)
            continue
        with fresh_database(backend, "inferred_reads", args.workdir) as db:
            load(db.url, events, args.batch)
            if backend == "postgres":
                db.analyze()
            app = create_app(Settings(database_url=db.url))
            with TestClient(app) as client:
                asked = questions(db.url, args.dag_runs, args.chains, workload_middle)
                for name, question in asked.items():
                    found = measure(client, question, args.samples)
                    hook_d, hook_a = found[(DAG, "declared")], found[(DAG, "all")]
                    twin = found[(TWINS, "all")]
                    work_d, work_a = found[(None, "declared")], found[(None, "all")]
                    print(
                        f"| {backend} | {name} | {_cell(hook_d)} | {_cell(hook_a)} "
                        f"| {hook_a['median_ms'] / hook_d['median_ms']:.2f}x | {_cell(twin)} "
                        f"| {hook_a['median_ms'] / twin['median_ms']:.2f}x "
                        f"| {hook_a['inferred_edges']:,} | {_cell(work_d)} | {_cell(work_a)} "
                        f"| {work_a['median_ms'] / work_d['median_ms']:.2f}x |",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
