"""Conformance-corpus ingest time on each database: the real producers' events, end to end.

Every accepted corpus event (``conformance/events/`` and ``nonconforming/`` of the shared
directory, read in place) is

1. posted one by one, sequentially, over HTTP to a fresh ``mllineage serve`` (one client, so the
   figure is the per-event latency of a durable write, not throughput);
2. posted again (all duplicates: nothing new may be stored);
3. imported into another fresh database with ``mllineage import`` from one NDJSON file.

Stored counts are checked against the corpus size. Usage::

    .venv/bin/python -m bench.corpus [--shared ../shared] [--backend postgres|sqlite|both]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.databases import Backend, fresh_database, postgres_available
from bench.servers import BIN, REPO, collector_server

BUCKETS = ("events", "nonconforming")


@dataclass(frozen=True)
class CorpusRun:
    backend: Backend
    events: int
    http_seconds: float
    http_p50_ms: float
    http_stored: int
    replay_seconds: float
    replay_stored: int  # events stored by the replay (must be 0)
    import_seconds: float
    import_stored: int

    def row(self) -> str:
        return (
            f"| {self.backend} | {self.events} | {self.http_seconds:.2f} s "
            f"({1000 * self.http_seconds / self.events:.1f} ms/event, p50 {self.http_p50_ms:.1f} ms)"
            f" | {self.replay_seconds:.2f} s | {self.import_seconds:.2f} s "
            f"({self.events / self.import_seconds:,.0f} events/s) "
            f"| {self.http_stored} / {self.replay_stored} / {self.import_stored} |"
        )


def corpus_events(shared: Path) -> list[Any]:
    """Every accepted corpus event, sorted by bucket and path."""
    root = shared / "conformance"
    return [
        json.loads(path.read_text())
        for bucket in BUCKETS
        for path in sorted((root / bucket).rglob("*.json"))
    ]


def run_corpus(backend: Backend, events: list[Any], workdir: Path) -> CorpusRun:
    with fresh_database(backend, "corpus", workdir) as db:
        log = workdir / f"corpus-{backend}.log"
        with (
            collector_server(db.url, workers=1, log=log) as server,
            httpx.Client(base_url=server.base_url, timeout=30) as client,
        ):
            http_seconds, latencies = _post_each(client, events)
            http_stored = db.count("lineage_events")
            replay_seconds, _ = _post_each(client, events)
            replay_stored = db.count("lineage_events") - http_stored
    with fresh_database(backend, "corpus-import", workdir) as db:
        ndjson = workdir / "corpus.ndjson"
        ndjson.write_text("".join(json.dumps(event) + "\n" for event in events))
        mllineage = str(BIN / "mllineage")
        subprocess.run(
            [mllineage, "db", "upgrade", "--database-url", db.url], check=True, capture_output=True
        )
        done = subprocess.run(
            [mllineage, "import", str(ndjson), "--database-url", db.url, "--no-migrate"],
            check=True,
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        # The importer's own clock (process start-up and migrations excluded): "... in 0.3s (".
        import_seconds = float(re.search(r" in ([0-9.]+)s \(", done.stdout).group(1))  # type: ignore[union-attr]
        import_stored = db.count("lineage_events")
    return CorpusRun(
        backend,
        len(events),
        http_seconds,
        statistics.median(latencies) * 1000,
        http_stored,
        replay_seconds,
        replay_stored,
        import_seconds,
        import_stored,
    )


def _post_each(client: httpx.Client, events: list[Any]) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for event in events:
        sent = time.perf_counter()
        response = client.post("/api/v1/lineage", json=event)
        latencies.append(time.perf_counter() - sent)
        if response.status_code != 201:
            raise RuntimeError(f"corpus event refused: {response.status_code} {response.text}")
    return time.perf_counter() - started, latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--backend", choices=("postgres", "sqlite", "both"), default="both")
    args = parser.parse_args(argv)
    backends: list[Backend] = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    events = corpus_events(args.shared)
    print(
        "| backend | events | HTTP, one by one | HTTP replay (duplicates) | `mllineage import` "
        "| stored: HTTP / replay / import |\n|---|---|---|---|---|---|"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            unavailable = postgres_available() if backend == "postgres" else None
            if unavailable:
                print(f"| postgres | skipped: {unavailable} |")
                continue
            print(run_corpus(backend, events, Path(tmp)).row(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
