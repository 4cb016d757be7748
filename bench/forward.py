"""Forwarding cost: does fanning events out slow ingestion, and how fast do targets catch up?

On fresh Postgres databases, with real ``mllineage serve`` processes:

1. baseline: ``--events`` workload events posted one by one over HTTP by ``--concurrency``
   clients to a collector without forwarding (events/s);
2. the same events to a collector A forwarding to three targets — collector B over HTTP, a file,
   and an HTTP address nobody listens on (always failing) — (events/s, ratio to 1.);
3. how long after the last 201 targets B and the file have every event (A's ``/ready``), the
   forwarding rate that implies, and that the dead target holds all of them in its backlog.

Usage::

    .venv/bin/python -m bench.forward [--events 3000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.databases import fresh_database, postgres_available
from bench.servers import collector_server, free_port
from bench.workload import generate_events


async def _post_all(url: str, events: list[dict[str, Any]], concurrency: int) -> float:
    """Post every event (one per request); returns the seconds it took."""
    queue = iter(events)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def worker() -> None:
            for event in queue:
                response = await client.post("/api/v1/lineage", json=event)
                assert response.status_code == 201, response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def _wait_drained(url: str, targets: list[str], timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        forwarding: dict[str, Any] = httpx.get(f"{url}/ready", timeout=30).json()["forwarding"]
        if all(forwarding[t]["backlog"] == 0 for t in targets):
            return forwarding
        if time.monotonic() > deadline:
            raise RuntimeError(f"forwarding did not drain: {forwarding}")
        time.sleep(0.1)


def run(events: int, concurrency: int) -> list[tuple[str, str]]:
    workload = list(itertools.islice(generate_events("small"), events))
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with (
            fresh_database("postgres", "fwd_base", work) as base_db,
            collector_server(base_db.url, workers=1, log=work / "base.log") as base,
        ):
            baseline = len(workload) / asyncio.run(_post_all(base.base_url, workload, concurrency))
        rows.append(("ingest, no forwarding (baseline)", f"{baseline:,.0f} events/s"))

        archive = work / "archive.ndjson"
        with (
            fresh_database("postgres", "fwd_b", work) as b_db,
            collector_server(b_db.url, workers=1, log=work / "b.log") as b,
        ):
            no_retries = {"total": 0, "connect": 0, "read": 0}
            targets = [
                {"type": "http", "name": "b", "url": b.base_url, "retry": no_retries},
                {"type": "file", "name": "file", "log_file_path": str(archive), "append": True},
                {
                    "type": "http",
                    "name": "dead",
                    "url": f"http://127.0.0.1:{free_port()}",
                    "retry": no_retries,
                },
            ]
            env = {"MLLINEAGE_FORWARD": json.dumps(targets)}
            with (
                fresh_database("postgres", "fwd_a", work) as a_db,
                collector_server(a_db.url, workers=1, log=work / "a.log", env=env) as a,
            ):
                seconds = asyncio.run(_post_all(a.base_url, workload, concurrency))
                acked = time.perf_counter()
                forwarding = _wait_drained(a.base_url, ["b", "file"])
                lag = time.perf_counter() - acked
        rate = len(workload) / seconds
        rows.append(
            (
                "ingest, forwarding to B + file + a dead target",
                f"{rate:,.0f} events/s ({rate / baseline:.2f}x baseline)",
            )
        )
        rows.append(
            (
                "B and the file complete after the last 201",
                f"{lag:.1f} s (forwarding {len(workload) / (seconds + lag):,.0f} events/s "
                "end to end)",
            )
        )
        rows.append(
            (
                "dead target's backlog / failures",
                f"{forwarding['dead']['backlog']:,} events / "
                f"{forwarding['dead']['failures']:,} failed sends, never blocking the others",
            )
        )
        lines = archive.read_text().splitlines()
        rows.append(("file target lines", f"{len(lines):,} for {len(workload):,} events"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    problem = postgres_available()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    print("| measurement | figure |\n|---|---|")
    for name, figure in run(args.events, args.concurrency):
        print(f"| {name} | {figure} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
