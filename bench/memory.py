"""Collector memory under sustained single-event ingest load, and the soak test.

Peak RSS is the larger of the sampled resident size and the kernel's high-water mark (``VmHWM``),
summed over the server process and its workers. Baseline: the do-nothing ceiling app under the
same load. In soak mode (``--soak-minutes``) the load runs that long with a sample every 5 s, and
growth compares the mean RSS of the last fifth of the run with the mean of its second fifth
(after warm-up), plus the least-squares slope over the second half.
"""

from __future__ import annotations

from bench.context import Context
from bench.databases import fresh_database
from bench.report import Figure
from bench.servers import RssSampler, ceiling_server, collector_server, peak_rss_bytes
from bench.wrk import Feeder

RSS_TARGET_MB = 300
GROWTH_LIMIT = 0.10  # soak: last fifth may exceed the second fifth by at most 10 %


def _slope_mb_per_min(samples: list[tuple[float, int]]) -> float:
    if len(samples) < 3:
        return 0.0
    xs = [t / 60 for t, _ in samples]
    ys = [rss / 1e6 for _, rss in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def bench_rss(ctx: Context) -> list[Figure]:
    soak = ctx.soak_minutes > 0
    seconds = ctx.soak_minutes * 60 if soak else ctx.duration
    interval = 5.0 if soak else 0.5
    prefix = ctx.thread_files()
    ctx.log(f"rss: ceiling under {ctx.connections}-connection load")
    with ceiling_server(workers=ctx.workers, log=ctx.path("server-ceiling-rss.log")) as server:
        with RssSampler(server, interval=0.5) as ceiling_rss:
            Feeder(prefix, ctx.threads).run(
                server.base_url,
                path="/api/v1/lineage",
                duration=min(ctx.duration, seconds),
                connections=ctx.connections,
            )
        ceiling_peak = max(ceiling_rss.peak, peak_rss_bytes(server.pids()))
    ctx.log(f"rss: collector under load for {seconds:.0f}s")
    with fresh_database(ctx.backend, "rss", ctx.results) as db:
        log = ctx.path(f"server-collector-rss-{ctx.backend}.log")
        with collector_server(db.url, workers=ctx.workers, log=log) as server:
            with RssSampler(server, interval=interval) as sampler:
                result = Feeder(prefix, ctx.threads).run(
                    server.base_url,
                    path="/api/v1/lineage",
                    duration=seconds,
                    connections=ctx.connections,
                )
            peak = max(sampler.peak, peak_rss_bytes(server.pids()))
        events = db.count("lineage_events")
    samples = sampler.samples
    mb = 1e6
    detail = {
        "seconds": seconds,
        "events_stored": events,
        "events_per_second": result.requests_per_second,
        "non_2xx": result.non_2xx,
        "events_reused": result.wrapped > 0,
        "samples_mb": [(round(t, 1), round(rss / mb, 1)) for t, rss in samples],
    }
    is_pg = ctx.backend == "postgres"
    figures = [
        Figure(
            "rss",
            f"collector peak RSS under load ({seconds:.0f}s), {ctx.backend}",
            peak / mb,
            "MB",
            baseline=ceiling_peak / mb,
            baseline_name="ceiling app",
            target=f"< {RSS_TARGET_MB} MB" if is_pg else "",
            met=peak / mb < RSS_TARGET_MB if is_pg else None,
            detail=detail,
        )
    ]
    if soak and len(samples) >= 10:
        fifth = len(samples) // 5
        early = sum(r for _, r in samples[fifth : 2 * fifth]) / fifth
        late = sum(r for _, r in samples[-fifth:]) / fifth
        growth = (late - early) / early if early else 0.0
        slope = _slope_mb_per_min(samples[len(samples) // 2 :])
        figures.append(
            Figure(
                "soak",
                f"RSS growth over a {ctx.soak_minutes:g}-minute soak (slope {slope:+.2f} MB/min "
                f"over the 2nd half), {ctx.backend}",
                growth * 100,
                "%",
                target=f"< {GROWTH_LIMIT:.0%} (no unbounded growth)" if is_pg else "",
                met=growth < GROWTH_LIMIT if is_pg else None,
                detail={"early_mb": early / mb, "late_mb": late / mb, "slope_mb_per_min": slope},
            )
        )
    return figures
