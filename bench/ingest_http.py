"""HTTP ingest benchmarks: one event per request (16 connections) and batches (``/lineage/batch``).

For each, the do-nothing ceiling (``bench.ceiling_app``) is measured first with the same events,
the same wrk load and the same uvicorn worker count; then the collector, on a fresh database,
durable (it answers 201 only after the commit). Every request carries events no earlier request
sent (``wrk.Feeder``); the figures say if the event files ran out and events were reused.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.context import Context
from bench.databases import fresh_database
from bench.profiling import py_spy, record, summarize
from bench.report import Figure
from bench.servers import (
    RssSampler,
    Server,
    ceiling_server,
    collector_server,
    peak_rss_bytes,
    thread_cpu_seconds,
)
from bench.wrk import Feeder, WrkResult
from mllineage.collector.db.engine import make_engine
from mllineage.collector.ingest.backlog import projection_backlog

SINGLE_TARGET = 0.7  # the collector's share of the ceiling, single-event, on Postgres


def _load(
    ctx: Context, server: Server, feeder: Feeder, *, batch: int, connections: int
) -> tuple[WrkResult, dict[str, float]]:
    """The measured wrk pass (after the warm-up) and the server's CPU per request during it."""
    path = "/api/v1/lineage/batch" if batch else "/api/v1/lineage"
    if ctx.warmup > 0:
        feeder.run(
            server.base_url, path=path, batch=batch, duration=ctx.warmup, connections=connections
        )
    pids = server.pids()
    main_before, other_before = thread_cpu_seconds(pids)
    result = feeder.run(
        server.base_url, path=path, batch=batch, duration=ctx.duration, connections=connections
    )
    main_after, other_after = thread_cpu_seconds(pids)
    requests = max(result.requests, 1)
    cpu = {
        "event_loop_cpu_us_per_request": (main_after - main_before) / requests * 1e6,
        "other_threads_cpu_us_per_request": (other_after - other_before) / requests * 1e6,
    }
    return result, cpu


def _wrk_detail(result: WrkResult, batch: int, cpu: dict[str, float]) -> dict[str, Any]:
    return {
        **{name: round(value, 1) for name, value in cpu.items()},
        "requests": result.requests,
        "seconds": result.seconds,
        "requests_per_second": result.requests_per_second,
        "events_per_request": batch or 1,
        "latency_ms": result.latency_ms,
        "non_2xx": result.non_2xx,
        "socket_errors": result.socket_errors,
        "events_reused": result.wrapped > 0,
    }


def _measure(ctx: Context, *, batch: int, connections: int, bench: str) -> list[Figure]:
    label = f"{bench}{batch or ''}"
    prefix = ctx.thread_files()
    per_request = batch or 1
    ctx.log(f"{label}: ceiling, {connections} connections, {ctx.duration:.0f}s")
    with ceiling_server(workers=ctx.workers, log=ctx.path(f"server-ceiling-{label}.log")) as srv:
        ceiling, ceiling_cpu = _load(
            ctx, srv, Feeder(prefix, ctx.threads), batch=batch, connections=connections
        )
    ctx.log(f"{label}: collector on {ctx.backend}")
    with fresh_database(ctx.backend, label, ctx.results) as db:
        log = ctx.path(f"server-collector-{label}-{ctx.backend}.log")
        with collector_server(db.url, workers=ctx.workers, log=log) as srv:
            feeder = Feeder(prefix, ctx.threads)
            with RssSampler(srv, interval=0.5) as rss:
                result, cpu = _load(ctx, srv, feeder, batch=batch, connections=connections)
            backlog = _backlog_at_end(db.url)
            peak = peak_rss_bytes(srv.pids())
            stored = db.count("lineage_events")
            profile = _profile(ctx, srv, feeder, batch, connections, label) if ctx.profile else {}
        size = db.size_bytes()
    collector_eps = result.requests_per_second * per_request
    ceiling_eps = ceiling.requests_per_second * per_request
    detail = {
        "collector": _wrk_detail(result, batch, cpu),
        "ceiling": _wrk_detail(ceiling, batch, ceiling_cpu),
        "events_stored": stored,
        **backlog,
        "database_bytes": size,
        "collector_peak_rss_bytes": max(peak, rss.peak),
        "workers": ctx.workers,
        "connections": connections,
        **profile,
    }
    durable_target = ctx.backend == "postgres" and not batch
    what = f"{per_request} event/request" if not batch else f"{batch} events/request"
    ratio = collector_eps / ceiling_eps if ceiling_eps else 0.0
    figures = [
        Figure(
            bench=bench,
            name=f"HTTP ingest, {what}, {connections} conn, {ctx.backend}",
            value=collector_eps,
            unit="events/s",
            baseline=ceiling_eps,
            baseline_name="do-nothing ceiling",
            target=f">= {SINGLE_TARGET}x ceiling" if durable_target else "",
            met=(ratio >= SINGLE_TARGET and result.errors == 0) if durable_target else None,
            detail=detail,
        ),
    ]
    for pct in ("50%", "99%"):
        figures.append(
            Figure(
                bench=bench,
                name=f"latency p{pct[:-1]}, {what}, {ctx.backend}",
                value=result.latency_ms.get(pct),
                unit="ms",
                baseline=ceiling.latency_ms.get(pct),
                baseline_name="ceiling",
            )
        )
    figures.append(
        Figure(
            bench=bench,
            name=f"projection backlog age at the end of the load, {what}, {ctx.backend}",
            value=backlog["backlog_age_at_end_s"],
            unit="s",
            target="< 2 s" if durable_target else "",
            met=(backlog["backlog_age_at_end_s"] < 2) if durable_target else None,
            detail={"drained_after_s": backlog["backlog_drained_after_s"]},
        )
    )
    if result.errors:
        figures[0].detail["warning"] = f"{result.errors} failed requests (non-2xx or socket errors)"
    return figures


def _backlog_at_end(url: str) -> dict[str, Any]:
    """The projection backlog the moment the load stops (events acknowledged, not projected yet,
    and the age of the oldest), and how long the running collector then takes to drain it."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            at_end = projection_backlog(conn)
        started = time.monotonic()
        while True:
            with engine.connect() as conn:
                if projection_backlog(conn).pending == 0:
                    break
            time.sleep(0.05)
        drained = time.monotonic() - started
    finally:
        engine.dispose()
    return {
        "backlog_pending_at_end": at_end.pending,
        "backlog_age_at_end_s": at_end.oldest_age_seconds or 0.0,
        "backlog_drained_after_s": drained,
    }


def _profile(
    ctx: Context, server: Server, feeder: Feeder, batch: int, connections: int, label: str
) -> dict[str, Any]:
    """py-spy the collector during an extra load pass (not the measured one): SVG + text."""
    if py_spy() is None:
        ctx.log("py-spy not installed: no profile")
        return {}
    seconds = max(5.0, ctx.duration)
    path = "/api/v1/lineage/batch" if batch else "/api/v1/lineage"
    outputs = {}
    for fmt, suffix in (("flamegraph", "svg"), ("raw", "txt")):
        out = ctx.path(f"profile-{label}-{ctx.backend}.{suffix}")
        load = threading.Thread(
            target=feeder.run,
            kwargs={
                "url": server.base_url,
                "path": path,
                "batch": batch,
                "duration": seconds + 2,
                "connections": connections,
            },
        )
        load.start()
        spy = record(server.pid, seconds, out, fmt=fmt)
        _, err = spy.communicate()
        load.join()
        if spy.returncode != 0:
            ctx.log(f"py-spy failed: {err.decode(errors='replace').strip()}")
            return {}
        outputs[fmt] = str(out)
    summary = ctx.path(f"profile-{label}-{ctx.backend}.summary.txt")
    raw = ctx.path(f"profile-{label}-{ctx.backend}.txt")
    loop_only = summarize(raw, 60, event_loop_only=True)
    summary.write_text(f"{summarize(raw)}\n\n== event-loop (main) threads only ==\n{loop_only}\n")
    ctx.log(f"profile: {outputs['flamegraph']} and {summary}")
    return {"profile_svg": outputs["flamegraph"], "profile_summary": str(summary)}


def bench_ingest(ctx: Context) -> list[Figure]:
    """Single-event HTTP ingest vs the ceiling."""
    return _measure(ctx, batch=0, connections=ctx.connections, bench="ingest")


def bench_batch(ctx: Context) -> list[Figure]:
    """Batch HTTP ingest (``/lineage/batch``) at each batch size vs the ceiling."""
    figures: list[Figure] = []
    for size in ctx.batch_sizes:
        figures += _measure(ctx, batch=size, connections=ctx.batch_connections, bench="batch")
    return figures
