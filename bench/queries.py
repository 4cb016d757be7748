"""Query latency on the whole workload graph: p50/p99/max over many start nodes.

The graph is the workload imported with ``mllineage import`` (reused from the import benchmark
when it ran first), with fresh planner statistics. One persistent HTTP client talks to
``mllineage serve``; every query kind is warmed up, then timed client-side (request to last
byte of the answer) over many start nodes. The baseline is the same client's ``GET /health``
round trip: the floor any query pays for HTTP. Endpoints the collector does not serve yet (not in
its OpenAPI document) are skipped with that reason.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bench.context import Context
from bench.databases import Database, fresh_database
from bench.import_bulk import import_available, import_graph
from bench.pglog import SlowLog, log_slow_statements
from bench.profiling import py_spy, record, stop, summarize
from bench.report import Figure
from bench.servers import Server, collector_server

WARMUP_CALLS = 3
MAX_NODES = 100_000  # walk the whole reachable graph: a truncated answer is a cheaper answer
ALL_ROWS = 1_000_000  # ``limit`` for one page holding every row of a paged answer


@dataclass
class Timings:
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    total_rows: list[int] = field(default_factory=list)
    truncated: int = 0

    def pct(self, q: float) -> float:
        ordered = sorted(self.seconds)
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index] * 1e3

    def summary(self) -> dict[str, Any]:
        return {
            "calls": len(self.seconds),
            "p50_ms": self.pct(0.5),
            "p99_ms": self.pct(0.99),
            "max_ms": max(self.seconds) * 1e3,
            "mean_rows": statistics.fmean(self.rows) if self.rows else 0,
            "max_rows": max(self.rows, default=0),
            "mean_total_rows": statistics.fmean(self.total_rows) if self.total_rows else None,
            "truncated": self.truncated,
            "errors": len(self.errors),
            "first_error": self.errors[0] if self.errors else "",
        }


@dataclass(frozen=True)
class QueryKind:
    key: str
    name: str
    path: str
    params: Callable[[random.Random], dict[str, Any]]
    calls: int
    target_p50_ms: float | None = None
    target_p99_ms: float | None = None


def _time(client: httpx.Client, path: str, params: dict[str, Any], timings: Timings) -> None:
    started = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        timings.errors.append(f"{response.status_code} {params}: {response.text[:300]}")
        return
    timings.seconds.append(elapsed)
    try:
        body = response.json()
    except ValueError:
        return
    if isinstance(body, dict):
        rows = body.get("rows", body.get("graph"))
        timings.rows.append(len(rows) if isinstance(rows, list) else 0)
        if "total_count" in body:
            timings.total_rows.append(body["total_count"])
        timings.truncated += bool(body.get("truncated"))


def _kinds(ctx: Context, meta: dict[str, Any]) -> list[QueryKind]:
    models = meta["models"]
    hub = meta["hub"]["node_id"]
    first = datetime.fromisoformat(meta["first_event_time"])
    last = datetime.fromisoformat(meta["last_event_time"])
    middle = (first + (last - first) / 2).isoformat()
    nodes = (
        [m["node_id"] for m in models]
        + meta["feature_groups"]
        + meta["sources"]
        + meta["jobs_sample"]
        + meta["endpoints"]
    )
    n = ctx.query_samples

    def model_version(rng: random.Random) -> dict[str, Any]:
        model = rng.choice(models)
        return {"nodeId": model["node_id"], "version": rng.choice(model["versions"])}

    return [
        QueryKind(
            "model_lineage",
            "model lineage (version-pinned chain), depth 10",
            "/api/v1/ml/model-lineage",
            lambda rng: {**model_version(rng), "depth": 10, "maxNodes": MAX_NODES},
            n,
            target_p50_ms=20,
            target_p99_ms=100,
        ),
        QueryKind(
            "model_upstream",
            "model upstream lineage (current graph), depth 10",
            "/api/v1/ml/lineage",
            lambda rng: {
                "nodeId": rng.choice(models)["node_id"],
                "direction": "upstream",
                "depth": 10,
                "maxNodes": MAX_NODES,
            },
            n,
        ),
        QueryKind(
            "hub_impact",
            f"impact of the hub ({meta['hub']['readers']:,} readers), depth 20",
            "/api/v1/ml/impact",
            lambda rng: {"nodeId": hub, "depth": 20, "maxNodes": MAX_NODES},
            max(5, n // 10),
            target_p50_ms=100,
        ),
        QueryKind(
            "hub_impact_all",
            "impact of the hub, depth 20, every row in one answer",
            "/api/v1/ml/impact",
            lambda rng: {"nodeId": hub, "depth": 20, "maxNodes": MAX_NODES, "limit": ALL_ROWS},
            max(5, n // 10),
        ),
        QueryKind(
            "impact",
            "impact of a feature group, depth 20",
            "/api/v1/ml/impact",
            lambda rng: {
                "nodeId": rng.choice(meta["feature_groups"]),
                "depth": 20,
                "maxNodes": MAX_NODES,
            },
            n,
        ),
        QueryKind(
            "tagged",
            "governance/tagged pii over the whole graph",
            "/api/v1/ml/governance/tagged",
            lambda rng: {"tag": "pii", "maxNodes": MAX_NODES},
            max(3, n // 40),
            target_p50_ms=1000,
        ),
        QueryKind(
            "tagged_all",
            "governance/tagged pii over the whole graph, every row in one answer",
            "/api/v1/ml/governance/tagged",
            lambda rng: {"tag": "pii", "maxNodes": MAX_NODES, "limit": ALL_ROWS},
            max(3, n // 40),
        ),
        QueryKind(
            "model_lineage_asof",
            "model lineage, asOf mid-history, depth 10",
            "/api/v1/ml/model-lineage",
            lambda rng: {**model_version(rng), "depth": 10, "asOf": middle, "maxNodes": MAX_NODES},
            n,
        ),
        QueryKind(
            "hub_impact_asof",
            "impact of the hub, asOf mid-history, depth 20",
            "/api/v1/ml/impact",
            lambda rng: {"nodeId": hub, "depth": 20, "asOf": middle, "maxNodes": MAX_NODES},
            max(5, n // 10),
        ),
        QueryKind(
            "marquez_lineage",
            "Marquez-shape /lineage, depth 20",
            "/api/v1/lineage",
            lambda rng: {"nodeId": rng.choice(nodes), "depth": 20},
            n,
        ),
        QueryKind(
            "marquez_lineage_hub",
            "Marquez-shape /lineage from the hub, depth 20",
            "/api/v1/lineage",
            lambda rng: {"nodeId": hub, "depth": 20},
            max(5, n // 10),
        ),
    ]


def _graph(ctx: Context) -> tuple[Database, int]:
    """The workload graph: the import benchmark's database, or a fresh import of our own."""
    if ctx.graph is not None:
        return ctx.graph, ctx.graph_events
    missing = import_available()
    if missing:
        raise RuntimeError(missing)
    db = ctx.stack.enter_context(fresh_database(ctx.backend, "query", ctx.results))
    ctx.log(f"query: importing the {ctx.scale} workload")
    run = import_graph(ctx, db)
    ctx.graph, ctx.graph_events = db, run.stored
    return db, run.stored


def bench_query(ctx: Context) -> list[Figure]:
    try:
        db, events = _graph(ctx)
    except RuntimeError as exc:
        return [Figure("query", f"query latency, {ctx.backend}", None, "ms", skipped=str(exc))]
    db.analyze()
    explain = ctx.profile and log_slow_statements(db, threshold_ms=10)
    meta = ctx.meta()
    rng = random.Random(ctx.seed)
    figures: list[Figure] = []
    log = ctx.path(f"server-collector-query-{ctx.backend}.log")
    with (
        collector_server(db.url, workers=ctx.workers, log=log) as server,
        httpx.Client(base_url=server.base_url, timeout=600) as client,
    ):
        served = set(client.get("/openapi.json").json().get("paths", {}))
        floor = Timings()
        for _ in range(WARMUP_CALLS):
            client.get("/health")
        for _ in range(max(20, ctx.query_samples)):
            _time(client, "/health", {}, floor)
        floor_ms = floor.pct(0.5)
        for kind in _kinds(ctx, meta):
            name = f"{kind.name}, {events:,} events, {ctx.backend}"
            target = _target_text(kind) if ctx.backend == "postgres" else ""
            if kind.path not in served:
                figures.append(
                    Figure(
                        "query",
                        name,
                        None,
                        "ms",
                        target=target,
                        skipped=f"{kind.path} is not served yet",
                    )
                )
                continue
            ctx.log(f"query: {kind.key} x{kind.calls}")
            timings = Timings()
            for _ in range(WARMUP_CALLS):
                _time(client, kind.path, kind.params(rng), Timings())
            evidence = _Evidence(ctx, server, kind.key, explain) if ctx.profile else None
            for _ in range(kind.calls):
                _time(client, kind.path, kind.params(rng), timings)
            figures += _figures(ctx, kind, name, target, timings, floor_ms)
            if evidence is not None:
                figures[-1].detail.update(evidence.collect(db))
    return figures


class _Evidence:
    """py-spy of the collector and Postgres's slow-statement log around one query kind."""

    def __init__(self, ctx: Context, server: Server, key: str, explain: bool) -> None:
        self.ctx, self.key, self.explain = ctx, key, explain
        self.raw = ctx.path(f"profile-query-{key}-{ctx.backend}.txt")
        self.spy = record(server.pid, None, self.raw, fmt="raw") if py_spy() else None
        self.slow = SlowLog(ctx.graph) if explain and ctx.graph is not None else None

    def collect(self, db: Database) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.spy is not None and stop(self.spy) and self.raw.exists():
            summary = self.raw.with_suffix(".summary.txt")
            summary.write_text(summarize(self.raw))
            found["profile_summary"] = str(summary)
        if self.slow is not None:
            found["slow_statements"] = self.slow.summary()
        return found


def _target_text(kind: QueryKind) -> str:
    parts = []
    if kind.target_p50_ms is not None:
        parts.append(f"p50 < {kind.target_p50_ms:g} ms")
    if kind.target_p99_ms is not None:
        parts.append(f"p99 < {kind.target_p99_ms:g} ms")
    return ", ".join(parts)


def _figures(
    ctx: Context, kind: QueryKind, name: str, target: str, timings: Timings, floor_ms: float
) -> list[Figure]:
    if not timings.seconds:
        return [
            Figure(
                "query",
                name,
                None,
                "ms",
                target=target,
                skipped=f"every call failed: {timings.errors[0] if timings.errors else '?'}",
            )
        ]
    summary = timings.summary()
    met: bool | None = None
    if target and ctx.backend == "postgres":
        met = not timings.errors
        if kind.target_p50_ms is not None:
            met = met and summary["p50_ms"] < kind.target_p50_ms
        if kind.target_p99_ms is not None:
            met = met and summary["p99_ms"] < kind.target_p99_ms
    return [
        Figure(
            "query",
            f"{name}: p50 (p99 {summary['p99_ms']:.0f} ms, max {summary['max_ms']:.0f} ms; "
            f"{_rows_text(summary)})",
            summary["p50_ms"],
            "ms",
            baseline=floor_ms,
            baseline_name="GET /health",
            target=target,
            met=met,
            detail=summary,
        )
    ]


def _rows_text(summary: dict[str, Any]) -> str:
    """``"1,000 of 48,540 rows"`` for a paged answer, ``"26 rows"`` otherwise (means)."""
    total = summary["mean_total_rows"]
    shown = f"{summary['mean_rows']:,.0f}"
    return f"{shown} of {total:,.0f} rows" if total is not None else f"{shown} rows"
