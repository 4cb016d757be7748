"""Progress for long CLI work (``import``, ``export``, ``replay``, ``sync``), drawn by rich.

Drawn on standard error and only when it is a terminal: pipes, files and CI logs get nothing but
the command's one-line summary.
"""

from __future__ import annotations

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

__all__ = ["progress_bar", "spinner"]


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
