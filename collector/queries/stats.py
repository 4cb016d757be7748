"""Marquez's landing-page statistics: lineage events per interval, and how many jobs, datasets
and sources existed at the end of each interval.

``DAY`` is the last 24 hours in whole UTC hours, the current hour last; ``WEEK`` the last 7
calendar days in the given time zone (DST-aware), today last. Event counts go by ``eventTime``;
entity counts are cumulative (everything created before the interval's end), as Marquez's are.
A *source* is a dataset namespace, existing from its first dataset on. Each answer is one
statement with one conditional sum per interval, the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, FromClause, and_, case, func, select

from mllineage.collector.db.tables import datasets_t, events_t, jobs_t

Period = Literal["DAY", "WEEK"]
EntityKind = Literal["jobs", "datasets", "sources"]
EVENT_TYPES = ("FAIL", "START", "COMPLETE", "ABORT")


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime


def intervals(period: Period, zone: ZoneInfo | None, now: datetime) -> list[Interval]:
    """The intervals of ``period`` ending with the one holding ``now`` (``zone`` for WEEK)."""
    if period == "DAY":
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        starts = [hour - timedelta(hours=23 - i) for i in range(24)]
        return [Interval(start, start + timedelta(hours=1)) for start in starts]
    assert zone is not None, "WEEK needs a time zone"
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=6 - i) for i in range(8)]
    midnights = [datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC) for d in days]
    return [Interval(midnights[i], midnights[i + 1]) for i in range(7)]


def _sums(conditions: list[ColumnElement[bool]]) -> list[ColumnElement[int]]:
    return [func.sum(case((condition, 1), else_=0)) for condition in conditions]


def lineage_event_counts(conn: Connection, spans: list[Interval]) -> list[dict[str, int]]:
    """Per interval, events of each type in ``EVENT_TYPES`` whose eventTime falls in it."""
    time, kind = events_t.c.event_time, events_t.c.event_type
    conditions = [
        and_(time >= span.start, time < span.end, kind == event_type)
        for span in spans
        for event_type in EVENT_TYPES
    ]
    row = conn.execute(
        select(*_sums(conditions)).where(time >= spans[0].start, time < spans[-1].end)
    ).one()
    counts = [int(value or 0) for value in row]
    width = len(EVENT_TYPES)
    return [
        dict(zip(EVENT_TYPES, counts[i * width : (i + 1) * width], strict=True))
        for i in range(len(spans))
    ]


def cumulative_counts(conn: Connection, kind: EntityKind, spans: list[Interval]) -> list[int]:
    """Per interval, how many ``kind`` had been created before its end."""
    source: FromClause
    if kind == "sources":
        firsts = (
            select(func.min(datasets_t.c.created_at).label("created_at"))
            .group_by(datasets_t.c.namespace_id)
            .subquery()
        )
        created = firsts.c.created_at
        source = firsts
    else:
        table = jobs_t if kind == "jobs" else datasets_t
        created, source = table.c.created_at, table
    row = conn.execute(
        select(*_sums([created < span.end for span in spans])).select_from(source)
    ).one()
    return [int(value or 0) for value in row]
