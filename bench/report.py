"""Benchmark results: one ``Figure`` per measured number, the machine it ran on, and the output
(a Markdown table on stdout, a JSON file in ``bench/results/``)."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.databases import postgres_available, postgres_settings


@dataclass
class Figure:
    """A measured value, the baseline measured in the same run, and the target it is held to.

    ``ratio`` is value / baseline (for throughputs: the share of the ceiling reached).
    ``met`` is None when there is no target (SQLite figures, informational numbers) or the
    figure could not be produced (``skipped`` says why).
    """

    bench: str
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    skipped: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def markdown_table(figures: list[Figure]) -> str:
    lines = [
        "| benchmark | figure | baseline (same run) | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        if f.skipped:
            lines.append(f"| {f.bench} | {f.name}: skipped ({f.skipped}) | | | {f.target} | - |")
            continue
        baseline = f"{_fmt(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline_name else "-"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        met = {True: "yes", False: "**no**", None: "-"}[f.met]
        lines.append(
            f"| {f.bench} | {f.name}: {_fmt(f.value, f.unit)} | {baseline} | {ratio} "
            f"| {f.target or '-'} | {met} |"
        )
    return "\n".join(lines)


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }
    if postgres_available() is None:
        info["postgres"] = postgres_settings()
    return info


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=False, cwd=Path(__file__).parent
        ).stdout.strip()
    except OSError:
        return ""


def write_results(figures: list[Figure], *, directory: Path, scale: str, argv: list[str]) -> Path:
    """``bench/results/<timestamp>-<scale>.json`` with figures, machine and command line."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{stamp}-{scale}.json"
    document = {
        "when": stamp,
        "scale": scale,
        "command": argv,
        "machine": machine_info(),
        "figures": [{**asdict(f), "ratio": f.ratio} for f in figures],
    }
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    return path
