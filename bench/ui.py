"""Web UI speed in Chromium on this machine, and the shipped size of its assets.

Prints, each against a baseline taken in the same run:

- shipped JS + CSS + HTML, raw and gzip -9 (target: < 1 MB compressed);
- the demo's model lineage view: navigation -> graph drawn (target < 1 s), against the bare
  ``/api/v1/ml/lineage`` call the view makes (what the browser adds on top of the API);
- the medium workload's hub (``analytics.public.customers``, ~1,000 readers): navigation ->
  graph drawn with its fan-out collapsed into "+N more" (target < 2 s), against its API call.

Usage::

    .venv/bin/python -m bench.ui [--medium-db sqlite:////tmp/medium.db] [--repeat 5]

Without ``--medium-db`` the medium workload is generated and bulk-imported into a temporary
SQLite file first (a few minutes). Collectors run as real ``mllineage serve`` processes; the
browser is Debian's Chromium (``/usr/bin/chromium``) driven by Playwright.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.servers import BIN, collector_server

WEB = Path(__file__).resolve().parents[1] / "collector" / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_MODEL = "dataset:mlflow://mlflow.internal:5000:models/churn-classifier"
HUB = "dataset:postgres://warehouse.prod:5432:analytics.public.customers"
DEPTH = 6  # the explorer's default depth


def shipped_size() -> tuple[int, int, int]:
    """(files, raw bytes, gzip -9 bytes) of everything the UI ships."""
    files = [p for p in WEB.rglob("*") if p.suffix in {".js", ".css", ".html"}]
    raw = sum(p.stat().st_size for p in files)
    packed = sum(len(gzip.compress(p.read_bytes(), 9)) for p in files)
    return len(files), raw, packed


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def medium_database(work: Path) -> str:
    events = work / "medium.ndjson"
    subprocess.run(
        [str(BIN / "python"), "-m", "bench.workload", "--scale", "medium", "--out", str(events)],
        check=True,
    )
    url = f"sqlite:///{work / 'medium.db'}"
    subprocess.run(
        [str(BIN / "mllineage"), "import", str(events), "--database-url", url], check=True
    )
    return url


def measure_view(
    base: str, node_id: str, drawn: str, repeat: int, *, load_demo: bool = False
) -> tuple[list[float], list[float], list[float]]:
    """(drawn, walls, API times): navigation start -> graph drawn (the page's ``performance``
    mark, once ``drawn`` is on the page); Playwright's ``goto`` until ``drawn`` is found (adds its
    own round trips and polling); the bare API call the view makes, from Python."""
    from playwright.sync_api import sync_playwright

    if load_demo:
        from mllineage.client import LineageClient
        from mllineage.client.demo import demo_events

        with LineageClient(base) as client:
            client.post_events(demo_events())
    params: dict[str, str | int] = {"nodeId": node_id, "direction": "both", "depth": DEPTH}
    with httpx.Client(base_url=base, timeout=60) as http:
        http.get("/api/v1/ml/lineage", params=params).raise_for_status()  # warm
        api = timed(
            lambda: http.get("/api/v1/ml/lineage", params=params).raise_for_status(), repeat
        )
    url = f"{base}/ui/lineage?{urlencode({'nodeId': node_id})}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.wait_for_selector(drawn, timeout=60_000)  # warm: browser cache, collector caches

        drawn_at: list[float] = []

        def view() -> None:
            page.goto("about:blank")
            page.goto(url)
            page.wait_for_selector(drawn, timeout=60_000)
            # The page's own clock: navigation start -> the graph component's User Timing mark.
            mark = 'performance.getEntriesByName("mllineage:graph-drawn")[0].startTime'
            drawn_at.append(page.evaluate(mark) / 1000)

        walls = timed(view, repeat)
        browser.close()
    return drawn_at, walls, api


def report(
    name: str, views: list[float], walls: list[float], api: list[float], target: float
) -> None:
    view, wall, call = (statistics.median(x) * 1000 for x in (views, walls, api))
    verdict = "met" if max(views) < target else "MISSED"
    print(
        f"{name}: graph drawn {view:.0f} ms after navigation (p50; max {max(views) * 1000:.0f} ms;"
        f" Playwright goto -> found p50 {wall:.0f} ms), its API call p50 {call:.0f} ms,"
        f" drawn/API {view / call:.1f}x; target < {target:.0f} s: {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--medium-db", help="SQLAlchemy URL of a database holding the medium workload"
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    files, raw, packed = shipped_size()
    print(
        f"shipped UI: {files} files, {raw / 1024:.1f} KiB raw, {packed / 1024:.1f} KiB gzip -9 "
        f"(target < 1024 KiB: {'met' if packed < 1024 * 1024 else 'MISSED'})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with collector_server(
            f"sqlite:///{work / 'demo.db'}", workers=1, log=work / "demo.log"
        ) as s:
            timings = measure_view(
                s.base_url, DEMO_MODEL, "g.node[data-kind=endpoint]", args.repeat, load_demo=True
            )
        report("demo model lineage", *timings, 1.0)
        medium = args.medium_db or medium_database(work)
        with collector_server(medium, workers=1, log=work / "medium.log") as s:
            timings = measure_view(s.base_url, HUB, "g.node.kind-more", args.repeat)
        report(f"medium hub lineage (depth {DEPTH}, fan-out collapsed)", *timings, 2.0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
