"""The raw event log, paged by event time (``/events/lineage``, ``mllineage export``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, func, select

from mllineage.collector.db.tables import events_t
from mllineage.collector.queries.catalog import Listing


def list_events(
    conn: Connection,
    *,
    before: datetime | None,
    after: datetime | None,
    sort: Literal["asc", "desc"],
    limit: int,
    offset: int,
) -> Listing[dict[str, Any]]:
    """Stored events (as received, canonical JSON) with ``after`` < event time <= ``before``."""
    conditions = []
    if before is not None:
        conditions.append(events_t.c.event_time <= before)
    if after is not None:
        conditions.append(events_t.c.event_time > after)
    total = conn.execute(select(func.count()).select_from(events_t).where(*conditions)).scalar_one()
    order = (events_t.c.event_time, events_t.c.id)
    rows = conn.execute(
        select(events_t.c.payload)
        .where(*conditions)
        .order_by(*(c.desc() for c in order) if sort == "desc" else order)
        .limit(limit)
        .offset(offset)
    ).scalars()
    return Listing(list(rows), total)


def iter_events(conn: Connection, *, batch: int = 1_000) -> Iterator[dict[str, Any]]:
    """Every stored event in (event time, id) order, fetched ``batch`` rows at a time."""
    last: tuple[datetime, int] | None = None
    while True:
        query = select(events_t.c.event_time, events_t.c.id, events_t.c.payload)
        if last is not None:
            query = query.where(
                (events_t.c.event_time > last[0])
                | ((events_t.c.event_time == last[0]) & (events_t.c.id > last[1]))
            )
        rows = conn.execute(query.order_by(events_t.c.event_time, events_t.c.id).limit(batch)).all()
        if not rows:
            return
        for _, _, payload in rows:
            yield payload
        last = (rows[-1][0], rows[-1][1])
