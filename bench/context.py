"""What every benchmark is given: scale, backend, load shape, and the workload files on disk.

The NDJSON workload for (scale, seed) is generated once into ``bench/results/`` and reused;
so are its per-wrk-thread splits.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.databases import Backend, Database
from bench.workload import SCALES, Workload, meta_path, write_ndjson
from bench.wrk import split_for_threads

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Context:
    scale: str
    backend: Backend = "postgres"
    seed: int = 42
    results: Path = RESULTS
    duration: float = 30.0  # seconds of wrk load per measurement
    warmup: float = 3.0  # seconds of load before each measurement
    connections: int = 16  # single-event ingest
    batch_connections: int = 4
    batch_sizes: tuple[int, ...] = (100, 1000)
    threads: int = 2  # wrk threads
    workers: int = 1  # uvicorn workers, the same for the collector and the ceiling
    profile: bool = False  # py-spy the collector under load (a separate pass)
    soak_minutes: float = 0.0
    query_samples: int = 200  # start nodes per query kind
    stack: ExitStack = field(default_factory=ExitStack)
    graph: Database | None = None  # a database holding the whole workload (import -> query)
    graph_events: int = 0
    keep_databases: bool = False  # leave the import benchmark's database for later query runs

    def log(self, message: str) -> None:
        print(f"[bench {self.scale}/{self.backend}] {message}", file=sys.stderr, flush=True)

    def events_file(self) -> Path:
        """The workload NDJSON for (scale, seed), generated on first use."""
        path = self.results / f"events-{self.scale}-{self.seed}.ndjson"
        if not path.exists() or not meta_path(path).exists():
            self.results.mkdir(parents=True, exist_ok=True)
            self.log(f"generating workload {path.name} ...")
            partial = path.with_suffix(".partial.ndjson")
            write_ndjson(Workload(SCALES[self.scale], self.seed), partial)
            meta_path(partial).rename(meta_path(path))
            partial.rename(path)
        return path

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = orjson.loads(meta_path(self.events_file()).read_bytes())
        return meta

    def thread_files(self) -> Path:
        """Prefix of the per-wrk-thread splits of the workload (``<prefix><k>.ndjson``)."""
        events = self.events_file()
        prefix = self.results / f"wrk-{self.scale}-{self.seed}-t{self.threads}-"
        split_for_threads(events, prefix, self.threads)
        return prefix

    def path(self, name: str) -> Path:
        self.results.mkdir(parents=True, exist_ok=True)
        return self.results / name
