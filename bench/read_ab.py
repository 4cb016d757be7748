"""Compare two versions of the read side on one stored graph, in process (no HTTP server).

Run it once per code version (put the other version first on ``PYTHONPATH``) against a graph kept
by ``python -m bench.run --only import --keep-databases``:

    python -m bench.read_ab --database-url URL --meta events-medium-42.meta.json LABEL

For each answer it prints the number of statements, a hash of their SQL text, the rows a paged
answer counts (``total_count``) and a hash of the
body (equal hashes: the same statements and the same bytes), then the minimum and median of N
timed calls through the ASGI app (run the versions alternately, several times: on a shared machine
only the minima compare). One JSON line on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings

MAX_NODES = 100_000
Params = Callable[[random.Random], dict[str, Any]]


def _requests(meta: dict[str, Any]) -> dict[str, tuple[str, Params, int]]:
    models, hub = meta["models"], meta["hub"]["node_id"]
    first = datetime.fromisoformat(meta["first_event_time"])
    last = datetime.fromisoformat(meta["last_event_time"])
    middle = (first + (last - first) / 2).isoformat()

    def version(rng: random.Random) -> dict[str, Any]:
        model = rng.choice(models)
        return {"nodeId": model["node_id"], "version": rng.choice(model["versions"])}

    def model(rng: random.Random) -> str:
        return str(rng.choice(models)["node_id"])

    marquez_starts = [m["node_id"] for m in models] + meta["feature_groups"]

    return {
        "model_lineage": (
            "/api/v1/ml/model-lineage",
            lambda rng: {**version(rng), "depth": 10, "maxNodes": MAX_NODES},
            30,
        ),
        "model_upstream": (
            "/api/v1/ml/lineage",
            lambda rng: {"nodeId": model(rng), "direction": "upstream", "depth": 10},
            30,
        ),
        "hub_impact": (
            "/api/v1/ml/impact",
            lambda rng: {"nodeId": hub, "depth": 20, "maxNodes": MAX_NODES},
            12,
        ),
        "hub_impact_all": (
            "/api/v1/ml/impact",
            lambda rng: {"nodeId": hub, "depth": 20, "maxNodes": MAX_NODES, "limit": 1_000_000},
            6,
        ),
        "tagged": (
            "/api/v1/ml/governance/tagged",
            lambda rng: {"tag": "pii", "maxNodes": MAX_NODES},
            8,
        ),
        "tagged_all": (
            "/api/v1/ml/governance/tagged",
            lambda rng: {"tag": "pii", "maxNodes": MAX_NODES, "limit": 1_000_000},
            5,
        ),
        "tagged_as_of": (
            "/api/v1/ml/governance/tagged",
            lambda rng: {"tag": "pii", "maxNodes": MAX_NODES, "asOf": middle},
            5,
        ),
        "model_lineage_as_of": (
            "/api/v1/ml/model-lineage",
            lambda rng: {**version(rng), "depth": 10, "maxNodes": MAX_NODES, "asOf": middle},
            20,
        ),
        "marquez_lineage": (
            "/api/v1/lineage",
            lambda rng: {"nodeId": rng.choice(marquez_starts), "depth": 20},
            20,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("label")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--meta", type=Path, required=True)
    args = parser.parse_args()
    meta = json.loads(args.meta.read_text())
    app = create_app(Settings(database_url=args.database_url))
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", record)
    out: dict[str, Any] = {"label": args.label, "answers": {}}
    rng = random.Random(1)
    with TestClient(app) as client:
        for key, (path, params, calls) in _requests(meta).items():
            fixed = params(random.Random(0))
            client.get(path, params=fixed)  # warm up
            statements.clear()
            answer = client.get(path, params=fixed)
            body = answer.content
            total = answer.json().get("total_count")
            count, sql = len(statements), hashlib.sha256("\n".join(statements).encode())
            times = []
            for _ in range(calls):
                chosen = params(rng)
                started = time.perf_counter()
                response = client.get(path, params=chosen)
                times.append((time.perf_counter() - started) * 1e3)
                assert response.status_code == 200, response.text[:300]
            out["answers"][key] = {
                "statements": count,
                "sql": sql.hexdigest()[:12],
                "body": hashlib.sha256(body).hexdigest()[:12],
                "rows": total,  # total_count of a paged answer (rows on every page)
                "min_ms": round(min(times), 1),
                "median_ms": round(statistics.median(times), 1),
            }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
