"""Monthly partitions of the raw event log on PostgreSQL, and retention.

``lineage_events`` is partitioned by ``received_at`` (one partition per UTC month, plus a DEFAULT
partition that only catches rows whose month has no partition yet). Partitions are created ahead
of time (at migration, at ``mllineage serve`` start-up and by the ingest writer when the month
turns), so the default partition stays empty. Retention drops whole partitions older than the
cut-off — instant, no vacuum — and deletes the older rows of the partition the cut-off falls in.
Dedup survives retention: ``event_digests`` keeps every content hash ever stored.
SQLite has no partitions: retention is a plain ``DELETE``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.runtime.environment import NameFilterParentNames, NameFilterType

log = logging.getLogger(__name__)

_PARTITION = re.compile(r"^lineage_events_y(\d{4})m(\d{2})$")
_ANY_PARTITION = re.compile(r"^lineage_events_(default|y\d{4}m\d{2})$")


def outside_partitions(
    name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames
) -> bool:
    """Alembic ``include_name`` hook: whether a reflected object is part of the declared schema,
    not a partition of ``lineage_events`` (or one of its indexes), which are made at run time."""
    table = name if type_ == "table" else parent_names.get("table_name")
    return table is None or _ANY_PARTITION.match(table) is None


def _month_start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def create_month_partitions(conn: Connection, now: datetime, *, months_ahead: int = 3) -> list[str]:
    """Create the partitions of ``now``'s month and the ``months_ahead`` after it (idempotent).

    Returns the names created. A month whose rows already sit in the default partition is
    skipped with a warning (PostgreSQL refuses to create it); its rows stay queryable there.
    """
    if conn.dialect.name != "postgresql":
        return []
    created = []
    for offset in range(months_ahead + 1):
        start = _month_start(now.year, now.month + offset)
        end = _month_start(now.year, now.month + offset + 1)
        name = f"lineage_events_y{start:%Y}m{start:%m}"
        exists = conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
        if exists is not None:
            continue
        try:
            with conn.begin_nested():
                conn.execute(
                    text(
                        f"CREATE TABLE {name} PARTITION OF lineage_events"
                        f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
                    )
                )
        except DBAPIError as exc:
            log.warning("partition %s not created: %s", name, exc.orig)
            continue
        created.append(name)
    return created


def apply_retention(conn: Connection, cutoff: datetime) -> int:
    """Remove raw events received before ``cutoff``; returns how many rows went.

    The projected graph (datasets, jobs, runs, edges, facets) is kept: it is derived from the
    events but no longer needs them. Event digests are kept, so a pruned event sent again is
    still recognised as a duplicate.
    """
    removed = 0
    if conn.dialect.name == "postgresql":
        partitions = conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'lineage_events'::regclass"
            )
        ).scalars()
        for name in sorted(partitions):
            match = _PARTITION.match(name)
            if match is None:
                continue
            end = _month_start(int(match[1]), int(match[2]) + 1)
            if end <= cutoff:
                # ``name`` matched _PARTITION, and came from the catalog: safe to interpolate.
                count = text(f"SELECT count(*) FROM {name}")  # noqa: S608
                removed += int(conn.execute(count).scalar_one())
                conn.execute(text(f"DROP TABLE {name}"))
    result = conn.execute(
        text("DELETE FROM lineage_events WHERE received_at < :cutoff"),
        {"cutoff": cutoff if conn.dialect.name == "postgresql" else _sqlite_time(cutoff)},
    )
    return removed + (result.rowcount or 0)


def _sqlite_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
