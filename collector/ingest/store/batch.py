"""``RawBatch``: the unit of projection, a set of events already in the raw log.

Contract: ``digests`` are distinct, in arrival order (the order the Python fold sees them, as the
SQL program does), each names an event stored in ``lineage_events``;
``known`` holds the parsed events the caller still has in memory (the ingest path's), and
``parsed`` yields every event of the batch once, in batch order, reading the others back from
the raw log (they were validated when they were acknowledged, so they are only decoded into their
models again, never re-judged). ``now`` stamps rows the projection creates (``created_at`` of
namespaces and runs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from mllineage.collector.db.tables import events_t
from mllineage.collector.ingest.store.dialect import chunks
from mllineage.collector.ingest.validate import ParsedEvent
from mllineage.collector.schemas.openlineage import EventKind


@dataclass(frozen=True)
class RawBatch:
    digests: list[bytes]
    now: datetime
    known: Mapping[bytes, ParsedEvent] = field(default_factory=dict)

    @classmethod
    def of(cls, events: Mapping[bytes, ParsedEvent], now: datetime) -> RawBatch:
        """A batch of events the caller holds parsed, in their order."""
        return cls(list(events), now, events)

    def parsed(self, conn: Connection) -> Iterator[ParsedEvent]:
        missing = [digest for digest in self.digests if digest not in self.known]
        loaded = load_events(conn, missing) if missing else {}
        for digest in self.digests:
            yield self.known.get(digest) or loaded[digest]


def load_events(conn: Connection, digests: list[bytes]) -> dict[bytes, ParsedEvent]:
    """The raw-log events of ``digests``, decoded into their models (raises if one is absent)."""
    events = events_t.c
    found: dict[bytes, ParsedEvent] = {}
    for chunk in chunks(digests):
        query = select(events.event_hash, events.kind, events.event_time, events.payload).where(
            events.event_hash.in_(chunk)
        )
        for digest, kind, event_time, payload in conn.execute(query):
            found[bytes(digest)] = stored_event(kind, payload, bytes(digest), event_time)
    absent = [d.hex() for d in digests if d not in found]
    if absent:
        raise LookupError(f"events not in the raw log: {', '.join(absent[:5])}")
    return found


def stored_event(
    kind: EventKind, payload: dict[str, Any], digest: bytes, event_time: datetime
) -> ParsedEvent:
    """A raw-log event as the projection needs it (no validation: it passed at ingest; its model
    is built when the Python fold asks for it)."""
    return ParsedEvent(
        kind=kind,
        payload=payload,
        canonical=b"",
        digest=digest,
        event_time=event_time,
    )
