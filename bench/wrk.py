"""Drive ``wrk`` with ``wrk_events.lua`` and read its figures (requests/s, latency percentiles).

Every wrk thread streams its own NDJSON file (``split_for_threads``), so each request carries
events no earlier request sent; ``WrkResult.wrapped`` says whether a file ran out and events were
reused (duplicates are cheaper for the collector, so the harness reports it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).with_name("wrk_events.lua")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def wrk_binary() -> str | None:
    return shutil.which("wrk")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    latency_ms: dict[str, float]  # "50%", "75%", "90%", "99%", plus "avg", "max"
    non_2xx: int
    socket_errors: dict[str, int]
    thread_events: list[int]  # events each wrk thread read from its file
    wrapped: int
    output: str = field(repr=False)

    @property
    def events_sent(self) -> int:
        return sum(self.thread_events)

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


def split_for_threads(events: Path, prefix: Path, threads: int, limit: int | None = None) -> None:
    """Deal the lines of ``events`` round-robin into ``<prefix><k>.ndjson``, k < threads."""
    done = [Path(f"{prefix}{k}.ndjson") for k in range(threads)]
    marker = Path(f"{prefix}done")
    if marker.exists() and all(p.exists() for p in done):
        return
    handles = [p.open("wb", buffering=1 << 20) for p in done]
    try:
        with events.open("rb") as source:
            for number, line in enumerate(source):
                if limit is not None and number >= limit:
                    break
                handles[number % threads].write(line)
    finally:
        for handle in handles:
            handle.close()
    marker.write_text(str(events))


def run_wrk(
    url: str,
    prefix: Path,
    *,
    path: str,
    batch: int = 0,
    duration: float,
    connections: int,
    threads: int,
    skip: int = 0,
    timeout: float = 30,
) -> WrkResult:
    """``wrk --latency`` against ``url`` + ``path`` for ``duration`` seconds; each thread first
    skips ``skip`` lines of its file."""
    binary = wrk_binary()
    if binary is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    command = [
        binary,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={round(timeout)}s",
        "--latency",
        "-s",
        str(LUA),
        url,
        "--",
        str(prefix),
        path,
        str(batch),
        str(skip),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()}")
    return parse_wrk(completed.stdout)


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    latency: dict[str, float] = {}
    for pct, value in re.findall(r"^\s+(\d+%)\s+([\d.]+(?:us|ms|s|m))\s*$", output, re.M):
        latency[pct] = _ms(value)
    stats = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", output, re.M)
    if stats:
        latency["avg"] = _ms(stats.group(1))
        latency["max"] = _ms(stats.group(3))
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True))
        if sockets
        else {}
    )
    threads = re.findall(
        r"^BENCH thread=\d+ requests=(\d+) events=(\d+) wrapped=(\d+)", output, re.M
    )
    if not total or not rps:
        raise ValueError(f"cannot read wrk output:\n{output}")
    return WrkResult(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2) + total.group(3)) / 1e3,
        requests_per_second=float(rps.group(1)),
        latency_ms=latency,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors,
        thread_events=[int(events) for _, events, _ in threads],
        wrapped=sum(int(wrapped) for _, _, wrapped in threads),
        output=output,
    )


@dataclass
class Feeder:
    """A cursor over the per-thread event files: each run starts where the previous one stopped,
    so a warm-up, a measurement and a profiling pass never send the same event twice."""

    prefix: Path
    threads: int
    cursor: int = 0

    def run(
        self,
        url: str,
        *,
        path: str,
        duration: float,
        connections: int,
        batch: int = 0,
        timeout: float = 30,
    ) -> WrkResult:
        result = run_wrk(
            url,
            self.prefix,
            path=path,
            batch=batch,
            duration=duration,
            connections=connections,
            threads=self.threads,
            skip=self.cursor,
            timeout=timeout,
        )
        self.cursor += max(result.thread_events, default=0)
        return result
