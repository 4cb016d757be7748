"""Sample the collector with py-spy while it is under load: a flame graph (SVG) and a text summary
(inclusive and self share of samples per function) that fits in a report.

py-spy is a bench-only tool (``.venv/bin/pip install py-spy``); without it profiling is skipped.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def record(
    pid: int, seconds: float | None, out: Path, *, fmt: str = "flamegraph"
) -> subprocess.Popen[bytes]:
    """Start ``py-spy record`` on ``pid`` (and its worker processes) in the background; without
    ``seconds`` it runs until ``stop`` (SIGINT makes py-spy write its output)."""
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is not installed (.venv/bin/pip install py-spy)")
    command = [
        binary,
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--nonblocking",
        "--rate",
        "97",
        *(["--duration", str(max(1, round(seconds)))] if seconds is not None else []),
        "--format",
        fmt,
        "--output",
        str(out),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(spy: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    """Stop a ``record`` started without a duration; True when py-spy wrote its output."""
    spy.send_signal(signal.SIGINT)
    try:
        spy.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.communicate()
        return False
    return spy.returncode == 0


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frame_name(frame: str) -> str:
    """``store_events (mllineage/collector/ingest/store.py:81)`` -> ``store_events (…/ingest/store.py)``."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for marker in ("/collector/", "/site-packages/", "/lib/python3"):
        if marker in path:
            path = "…" + marker + path.split(marker, 1)[1]
            break
    return f"{match.group('func')} ({path})"


def summarize(raw: Path, top: int = 35, *, event_loop_only: bool = False) -> str:
    """Inclusive and self percentages of the hottest functions in a py-spy ``raw`` profile.

    ``event_loop_only``: only the samples of the main threads (where the event loop runs every
    request's Python code); a stack that starts in ``Thread._bootstrap`` belongs to another thread
    (writer, projector, pools) and is left out. Multiplied by the event loop's CPU per request
    (the ingest figures' detail), a share gives microseconds per request."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";")]
        if event_loop_only and any(f.startswith("Thread._bootstrap ") for f in frames):
            continue
        # the first frame is the thread ("process ... / thread ..."); keep it as its own row
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "inclusive%  self%  function"]
    for name, count in inclusive.most_common(top):
        lines.append(f"{100 * count / total:9.1f}  {100 * own[name] / total:5.1f}  {name}")
    lines += ["", "top self time:", "self%  function"]
    for name, count in own.most_common(20):
        lines.append(f"{100 * count / total:5.1f}  {name}")
    return "\n".join(lines)
