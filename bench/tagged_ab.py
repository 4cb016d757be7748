"""``tagged pii`` on one stored graph: rows, their evidence and time, for the tree first on the path.

Run it once per code version (put the other version first on ``PYTHONPATH``, as ``bench.read_ab``)
against a graph stored with ``mllineage import`` of a workload (``bench.workload``)::

    python -m bench.tagged_ab LABEL DATABASE_URL EVENTS.meta.json

Prints one JSON line: for the first page (models and endpoints), all rows (every kind), all rows
as of the workload's middle time and ``scope=versions``, the total, the rows by evidence and the
minimum / median of five timed calls through the ASGI app.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings

PATH = "/api/v1/ml/governance/tagged"
EVERY_KIND = "dataset,feature_group,model,endpoint"


def _questions(meta: dict[str, Any]) -> dict[str, dict[str, str | int]]:
    first = datetime.fromisoformat(meta["first_event_time"])
    last = datetime.fromisoformat(meta["last_event_time"])
    middle = (first + (last - first) / 2).isoformat()
    every: dict[str, str | int] = {"tag": "pii", "limit": 1_000_000, "kinds": EVERY_KIND}
    return {
        "first page": {"tag": "pii", "limit": 1000},
        "all rows": every,
        "asOf middle": {**every, "asOf": middle},
        "versions": {"tag": "pii", "limit": 1_000_000, "scope": "versions"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("label")
    parser.add_argument("database_url")
    parser.add_argument("meta", type=Path)
    parser.add_argument("--only", help="comma-separated questions, e.g. 'asOf middle'")
    args = parser.parse_args()
    meta = json.loads(args.meta.read_text())
    app = create_app(Settings(database_url=args.database_url))
    out: dict[str, Any] = {"label": args.label}
    with TestClient(app) as client:
        for name, params in _questions(meta).items():
            if args.only and name not in args.only.split(","):
                continue
            client.get(PATH, params=params)  # warm up
            times = []
            for _ in range(5):
                started = time.perf_counter()
                response = client.get(PATH, params=params)
                times.append((time.perf_counter() - started) * 1e3)
                assert response.status_code == 200, response.text[:300]
            body = response.json()
            out[name] = {
                "total": body.get("total_count"),
                "evidence": dict(Counter(row.get("evidence", "-") for row in body["rows"])),
                "min_ms": round(min(times), 1),
                "median_ms": round(statistics.median(times), 1),
            }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
