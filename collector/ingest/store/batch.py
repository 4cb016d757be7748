"""``RawBatch``: the unit of projection, a set of events already in the raw log.

Contract: ``digests`` are distinct and sorted, each names an event stored in ``lineage_events``;
``known`` holds the parsed events the caller still has in memory (the ingest path's), and
``parsed`` yields every event of the batch once, in digest order. ``now`` stamps rows the
projection creates (``created_at`` of namespaces and runs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from mllineage.collector.ingest.validate import ParsedEvent


@dataclass(frozen=True)
class RawBatch:
    digests: list[bytes]
    now: datetime
    known: Mapping[bytes, ParsedEvent] = field(default_factory=dict)

    @classmethod
    def of(cls, events: Mapping[bytes, ParsedEvent], now: datetime) -> RawBatch:
        """A batch of events the caller holds parsed."""
        return cls(sorted(events), now, events)

    def parsed(self, conn: Connection) -> Iterator[ParsedEvent]:
        for digest in self.digests:
            yield self.known[digest]
