"""Start the servers under test as real processes: the collector (``mllineage serve``) and the
do-nothing ceiling (uvicorn on ``bench.ceiling_app``), on free local ports, with the same worker
count; plus the process-memory readings (``/proc``) the RSS benchmark needs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A server process we started; ``base_url`` like ``http://127.0.0.1:5123``."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def pids(self) -> list[int]:
        """The server and its worker processes (uvicorn ``--workers`` > 1 forks children)."""
        return process_tree(self.pid)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            if httpx.get(f"{server.base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not start:\n{server.log_tail()}")


@contextmanager
def _serve(
    name: str, command: list[str], port: int, log: Path, env: dict[str, str]
) -> Iterator[Server]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )
    server = Server(name, process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_ready(server, timeout=60)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGINT (uvicorn's graceful shutdown), then SIGKILL; only the process we started."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def collector_server(
    database_url: str, *, workers: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``mllineage serve`` on a free port against ``database_url`` (migrated at start-up)."""
    port = free_port()
    command = [
        str(BIN / "mllineage"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--database-url",
        database_url,
    ]
    with _serve(
        "collector", command, port, log, {"MLLINEAGE_LOG_LEVEL": "WARNING", **(env or {})}
    ) as s:
        yield s


@contextmanager
def ceiling_server(*, workers: int, log: Path) -> Iterator[Server]:
    """The do-nothing ceiling app, served by the same uvicorn with the same worker count."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.ceiling_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with _serve("ceiling", command, port, log, {}) as server:
        yield server


# --- process memory (Linux /proc) -----------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_bytes(pids: list[int]) -> int:
    """Resident set size now, summed over ``pids``."""
    return sum(_status_kb(p, "VmRSS") for p in pids) * 1024


def peak_rss_bytes(pids: list[int]) -> int:
    """High-water mark of resident memory (``VmHWM``), summed over ``pids``."""
    return sum(_status_kb(p, "VmHWM") for p in pids) * 1024


def thread_cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """CPU seconds (user + system) used so far by ``pids``: (main threads, other threads).

    A uvicorn worker's main thread runs the event loop (HTTP parsing, routing, the request's
    Python code); the other threads are the collector's writer, projector and pool threads."""
    tick = os.sysconf("SC_CLK_TCK")
    main = other = 0.0
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                fields = (task / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            seconds = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            if int(task.name) == pid:
                main += seconds
            else:
                other += seconds
    return main, other


@dataclass
class RssSampler:
    """Samples the RSS of a server's process tree every ``interval`` seconds in a thread."""

    server: Server
    interval: float = 1.0
    samples: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        started = time.monotonic()

        def loop() -> None:
            while not self._stop.is_set():
                rss = rss_bytes(self.server.pids())
                self.samples.append((time.monotonic() - started, rss))
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)
