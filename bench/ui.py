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
) -> tuple[list[float], list[float]]:
    """(view times, API times): navigation -> ``drawn`` selector present; the bare API call."""
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

        def view() -> None:
            page.goto("about:blank")
            page.goto(url)
            page.wait_for_selector(drawn, timeout=60_000)

        views = timed(view, repeat)
        browser.close()
    return views, api


def report(name: str, views: list[float], api: list[float], target: float) -> None:
    view, call = statistics.median(views), statistics.median(api)
    verdict = "met" if view < target else "MISSED"
    print(
        f"{name}: view drawn p50 {view * 1000:.0f} ms (max {max(views) * 1000:.0f} ms), "
        f"its API call p50 {call * 1000:.0f} ms, view/API {view / call:.1f}x; "
        f"target < {target:.0f} s: {verdict}"
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
            views, api = measure_view(
                s.base_url, DEMO_MODEL, "g.node[data-kind=endpoint]", args.repeat, load_demo=True
            )
        report("demo model lineage", views, api, 1.0)
        medium = args.medium_db or medium_database(work)
        with collector_server(medium, workers=1, log=work / "medium.log") as s:
            views, api = measure_view(s.base_url, HUB, "g.node.kind-more", args.repeat)
        report(f"medium hub lineage (depth {DEPTH}, fan-out collapsed)", views, api, 2.0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
