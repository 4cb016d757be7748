"""Memory under a burst of large batches: 8 clients each POST an ~8.5 MB ``/lineage/batch`` at
once, retrying 503s after ``Retry-After`` as OpenLineage clients do; then the collector idles.

    python -m bench.burst [--backend postgres|sqlite] [--parallel 8] [--batch-mb 8.5]
                          [--idle-seconds 60]

Reported for the collector as configured by default (the in-flight byte budget) and, as the
baseline in the same run, for the same collector with the budget lifted
(``MLLINEAGE_MAX_INFLIGHT_BYTES`` = 1 TB, i.e. every batch admitted at once): RSS before the
burst, the peak during it (sampled and the kernel's ``VmHWM``), RSS after ``--idle-seconds``, the
503s the clients retried, and the burst's wall time. Targets: peak < 600 MB, idle < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.databases import Backend, fresh_database
from bench.servers import RssSampler, collector_server, peak_rss_bytes, rss_bytes

PEAK_TARGET_MB = 600
IDLE_TARGET_MB = 300
MB = 1e6


def batch_body(target_bytes: int, seed: int) -> bytes:
    """One JSON array of realistic RunEvents (a 40-column schema per dataset) of about
    ``target_bytes``; every event unique."""
    fields = [
        {"name": f"column_{i}", "type": "VARCHAR", "description": "x" * 20} for i in range(40)
    ]
    schema = {
        "_producer": "https://bench",
        "_schemaURL": "https://bench/schema.json",
        "fields": fields,
    }

    def event(i: int) -> dict[str, Any]:
        return {
            "eventType": "COMPLETE",
            "eventTime": "2024-06-01T12:00:00Z",
            "producer": "https://github.com/mllineage/mllineage/bench",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}-{i}"))},
            "job": {"namespace": "burst", "name": f"job_{seed}_{i % 50}"},
            "inputs": [{"namespace": "burst", "name": f"in_{i % 200}", "facets": {"schema": schema}}],
            "outputs": [{"namespace": "burst", "name": f"out_{seed}_{i}", "facets": {"schema": schema}}],
        }  # fmt: skip

    one = len(json.dumps(event(0)))
    count = max(1, target_bytes // (one + 2))
    return json.dumps([event(i) for i in range(count)]).encode()


@dataclass
class Burst:
    label: str
    idle_before_mb: float
    peak_mb: float
    idle_after_mb: float
    retried_503: int
    seconds: float
    stored: int


def run_burst(
    label: str, backend: Backend, bodies: list[bytes], idle_seconds: float, env: dict[str, str]
) -> Burst:
    workdir = Path(tempfile.mkdtemp(prefix="mllineage-burst-"))
    with fresh_database(backend, "burst", workdir) as db:
        log = workdir / f"server-{label}.log"
        with collector_server(db.url, workers=1, log=log, env=env) as server:
            time.sleep(2)
            before = rss_bytes(server.pids())
            retried = [0] * len(bodies)
            errors: list[str] = []

            def send(index: int) -> None:
                with httpx.Client(base_url=server.base_url, timeout=600) as client:
                    while True:
                        response = client.post(
                            "/api/v1/lineage/batch",
                            content=bodies[index],
                            headers={"Content-Type": "application/json"},
                        )
                        if response.status_code == 503:
                            retried[index] += 1
                            time.sleep(float(response.headers.get("Retry-After", "1")))
                            continue
                        if response.status_code != 200 or response.json()["summary"]["failed"]:
                            errors.append(f"{response.status_code} {response.text[:200]}")
                        return

            with RssSampler(server, interval=0.2) as sampler:
                started = time.monotonic()
                threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                seconds = time.monotonic() - started
            peak = max(sampler.peak, peak_rss_bytes(server.pids()))
            time.sleep(idle_seconds)
            after = rss_bytes(server.pids())
        stored = db.count("lineage_events")
    if errors:
        raise RuntimeError(f"{label}: batches failed: {errors}")
    return Burst(label, before / MB, peak / MB, after / MB, sum(retried), seconds, stored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--batch-mb", type=float, default=8.5)
    parser.add_argument("--idle-seconds", type=float, default=60)
    args = parser.parse_args()
    bodies = [batch_body(int(args.batch_mb * MB), seed) for seed in range(args.parallel)]
    print(
        f"[burst] {args.parallel} batches of {len(bodies[0]) / MB:.1f} MB "
        f"({bodies[0].count(b'eventTime')} events each), {args.backend}",
        file=sys.stderr,
    )
    results = [
        run_burst("bounded (default)", args.backend, bodies, args.idle_seconds, {}),
        run_burst(
            "unbounded (baseline)",
            args.backend,
            bodies,
            args.idle_seconds,
            {"MLLINEAGE_MAX_INFLIGHT_BYTES": str(10**12)},
        ),
    ]
    print(
        f"| collector | RSS before | peak RSS | RSS {args.idle_seconds:.0f} s after "
        "| 503s retried | burst wall time | events stored |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.label} | {r.idle_before_mb:.0f} MB | {r.peak_mb:.0f} MB "
            f"| {r.idle_after_mb:.0f} MB | {r.retried_503} | {r.seconds:.1f} s | {r.stored:,} |"
        )
    bounded, baseline = results
    print(
        f"\npeak {bounded.peak_mb:.0f} MB = {bounded.peak_mb / baseline.peak_mb:.2f}x the "
        f"unbounded peak (target < {PEAK_TARGET_MB} MB: "
        f"{'met' if bounded.peak_mb < PEAK_TARGET_MB else 'missed'}); after "
        f"{args.idle_seconds:.0f} s idle {bounded.idle_after_mb:.0f} MB (target < "
        f"{IDLE_TARGET_MB} MB: {'met' if bounded.idle_after_mb < IDLE_TARGET_MB else 'missed'})"
    )


if __name__ == "__main__":
    main()
