"""Bound the request bytes being read, parsed and stored across all ingest requests at once.

Each ingest request reserves its declared ``Content-Length`` (or the body limit when it declares
none) before reading its body, and gives it back when answered. A request that would take the
total past the budget is refused at once with 503 + ``Retry-After`` (clients retry 5xx), so a
burst of large batches cannot take the process's memory past what the budget allows. A request
larger than the whole budget still runs when it is alone, so every acceptable body gets through.

When the last reservation of a burst is released, the memory its events used is handed back to
the operating system (``memory.release_free_memory``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request

from mllineage.collector.errors import Overloaded
from mllineage.collector.memory import release_free_memory

#: After this many bytes went through since the last release, an idle moment releases memory.
RELEASE_AFTER_BYTES = 16 * 1024 * 1024


class InflightBudget:
    """Bytes reserved by requests in progress; one event loop uses it (no lock needed)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.reserved = 0
        self._since_release = 0

    def try_reserve(self, size: int) -> bool:
        if self.reserved and self.reserved + size > self.capacity:
            return False
        self.reserved += size
        self._since_release += size
        return True

    def release(self, size: int) -> None:
        self.reserved -= size
        if self.reserved == 0 and self._since_release >= RELEASE_AFTER_BYTES:
            self._since_release = 0
            release_free_memory()


@contextmanager
def reserved_body(request: Request) -> Iterator[None]:
    """Hold this ingest request's bytes while it runs (503 ``Overloaded`` when over budget)."""
    settings = request.app.state.settings
    budget: InflightBudget = request.app.state.inflight
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() else settings.max_body_bytes
    size = min(max(size, 1), settings.max_body_bytes)  # larger ones get 413 without reading
    if not budget.try_reserve(size):
        raise Overloaded(
            "too many request bytes in flight; retry later", settings.retry_after_seconds
        )
    try:
        yield
    finally:
        budget.release(size)
