"""Progress for long CLI work (``import``, ``export``, ``replay``, ``sync``), drawn by rich.

Drawn on standard error and only when it is a terminal: pipes, files and CI logs get nothing but
the command's one-line summary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["ImportDisplay", "progress_bar", "spinner"]


def _console() -> Console:
    return Console(stderr=True)


@contextmanager
def progress_bar(
    total: int | None, description: str, *, unit: str = ""
) -> Iterator[Callable[[int], None]]:
    """A bar of ``total`` steps (``None``: unknown, counts up). Yields ``advance(steps=1)``; with
    ``unit="B"`` it yields ``moved(position)`` instead, the absolute byte position reached."""
    console = _console()
    count = DownloadColumn() if unit == "B" else MofNCompleteColumn()
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        count,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(steps: int = 1) -> None:
            bar.advance(task, steps)

        def moved(position: int) -> None:
            bar.update(task, completed=position)

        yield moved if unit == "B" else advance


@contextmanager
def spinner(description: str) -> Iterator[None]:
    """A spinner with elapsed time while work of unknown length runs."""
    console = _console()
    columns = [SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()]
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        bar.add_task(description, total=None)
        yield


class ImportDisplay:
    """``mllineage import``'s progress: one live display of the load (bytes of the file) and
    the projection (events projected of those loaded) on a terminal; elsewhere a plain line on
    standard error at most every ``every`` seconds. Both methods may be called from any thread.
    """

    def __init__(self, name: str, size: int, *, every: float = 10.0) -> None:
        self.name = name
        self.size = size
        self.every = every
        self._console = _console()
        self._live = self._console.is_terminal
        self._progress: Progress | None = None
        self._last_line = 0.0
        self._lock = threading.Lock()
        self._state = (0, 0, 0)  # bytes read, events loaded, events projected

    def __enter__(self) -> ImportDisplay:
        if self._live:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[count]}"),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.__enter__()
            self._load = self._progress.add_task(
                f"loading {self.name}", total=self.size, count="0 events"
            )
            self._project = self._progress.add_task("projecting", total=None, count="0 events")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)

    def loaded(self, position: int, events: int) -> None:
        with self._lock:
            self._state = (position, events, self._state[2])
        self._show()

    def projected(self, done: int, loaded: int) -> None:
        with self._lock:
            position, events, _ = self._state
            self._state = (position, max(events, loaded), done)
        self._show()

    def _show(self) -> None:
        position, events, done = self._state
        if self._progress is not None:
            self._progress.update(self._load, completed=position, count=f"{events:,} events")
            self._progress.update(
                self._project, completed=done, total=max(events, done), count=f"{done:,} events"
            )
            return
        now = time.monotonic()
        with self._lock:
            if now - self._last_line < self.every:
                return
            self._last_line = now
        self._console.print(
            f"{self.name}: loaded {events:,} events ({position / max(self.size, 1):.0%} of the"
            f" file), projected {done:,}",
            highlight=False,
            soft_wrap=True,
        )
