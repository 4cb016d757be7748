"""Bound the request bytes being read, parsed and stored across all ingest requests at once.

Each ingest request reserves its declared ``Content-Length`` (or the body limit when it declares
none) before reading its body, and gives it back when answered. A request that would take the
total past the budget is refused at once with 503 + ``Retry-After`` (clients retry 5xx), so a
burst of large batches cannot take the process's memory past what the budget allows. A request
larger than the whole budget still runs when it is alone, so every acceptable body gets through.

When a burst is over (no ingest request for ``RELEASE_IDLE_SECONDS`` after the last
reservation was released), the memory its events used is handed back to the operating system
(``memory.release_free_memory``). Not at the release itself: a cycle collection and
``malloc_trim`` take up to ~100 ms on a large heap, and under steady load the reservations drop
to zero between requests all the time, so that would stall the event loop every few thousand
requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request

from mllineage.collector.errors import Overloaded
from mllineage.collector.memory import release_free_memory

#: After this many bytes went through since the last release, an idle moment releases memory.
RELEASE_AFTER_BYTES = 16 * 1024 * 1024
#: ... once no ingest request has come for this long.
RELEASE_IDLE_SECONDS = 0.5


class InflightBudget:
    """Bytes reserved by requests in progress; one event loop uses it (no lock needed)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.reserved = 0
        self._since_release = 0
        self._reservations = 0  # ever made: tells an idle moment from a busy one
        self._idle_check: asyncio.TimerHandle | None = None

    def try_reserve(self, size: int) -> bool:
        if self.reserved and self.reserved + size > self.capacity:
            return False
        self.reserved += size
        self._since_release += size
        self._reservations += 1
        return True

    def release(self, size: int) -> None:
        self.reserved -= size
        if (
            self.reserved == 0
            and self._since_release >= RELEASE_AFTER_BYTES
            and self._idle_check is None
        ):
            self._check_idle_later()

    def _check_idle_later(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on an event loop: nothing to stall
            self._release_memory()
            return
        self._idle_check = loop.call_later(
            RELEASE_IDLE_SECONDS, self._release_if_idle, self._reservations
        )

    def _release_if_idle(self, reservations_then: int) -> None:
        self._idle_check = None
        if self.reserved == 0 and self._reservations == reservations_then:
            self._release_memory()
        else:  # still busy: look again later
            self._check_idle_later()

    def _release_memory(self) -> None:
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
