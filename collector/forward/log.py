"""Reading the raw event log in commit order, from a position, without ever skipping a row.

A position is ``(commit_tx, id)`` of a ``lineage_events`` row; the log's commit order is that
pair's order. ``id`` alone is not enough on PostgreSQL: ids are taken from a sequence when a row
is inserted, and concurrent writers commit out of that order, so a reader that saw id 12 may
later find id 11 committed. Rows there carry their transaction's id (``commit_tx``) and a reader
only takes rows whose transaction is older than every transaction still running (the snapshot's
``xmin``): no row can appear later before those. SQLite has one writer at a time, so ``id``
order is commit order and every committed row is settled (``commit_tx`` is 0).

Dialect differences live behind ``CommitOrder``; callers use ``read_after``, ``head``,
``backlog`` and ``commit_order``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, func, select, text, tuple_

from mllineage.collector.db.tables import events_t

Position = tuple[int, int]

#: Before every row of the log.
START: Position = (0, 0)
_MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class LogEntry:
    position: Position
    received_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Backlog:
    """Settled events after a position (``count`` stops at the cap) and the oldest one's age."""

    count: int
    capped: bool
    oldest_received_at: datetime | None


class CommitOrder(Protocol):
    def settled_bound(self, conn: Connection) -> int | None:
        """A ``commit_tx`` below which no row can commit any more (None: every row is settled).

        Must be read in a statement *before* the rows it bounds are read."""

    def rebase(self, conn: Connection, position: Position) -> Position:
        """``position``, or an earlier one if the log was emptied and its ids started over."""


class _PostgresOrder:
    """The bound is the oldest transaction id still running *in this database*, or else the next
    id to be assigned (past the snapshot's ``xmax`` and every running id). A transaction that
    gets its id later gets a larger one, so it cannot commit a row below the bound. Transactions of other databases on the same server do
    not hold forwarding back, unless this role cannot see every session of this database (no
    ``pg_read_all_stats``): then the server-wide snapshot ``xmin`` is used, which is also safe.
    ``backend_xid`` is 32 bits; it is widened to the 64-bit id nearest the snapshot's ``xmax``.
    """

    _BOUND = text(
        """
        WITH now AS (
            SELECT (pg_snapshot_xmax(pg_current_snapshot())::text)::bigint AS xmax,
                   (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint AS xmin
        ), running AS (
            SELECT datname AS db, (backend_xid::text)::bigint AS xid32 FROM pg_stat_activity
            WHERE backend_xid IS NOT NULL
            UNION ALL
            SELECT database, (transaction::text)::bigint FROM pg_prepared_xacts
        ), widened AS (
            -- the 64-bit id nearest xmax with these low 32 bits (ids live within 2^31 of it)
            SELECT db, now.xmax + ((xid32 - (now.xmax & 4294967295) + 2147483648) % 4294967296
                                   + 4294967296) % 4294967296 - 2147483648 AS xid
            FROM running, now
        ), hidden AS (
            SELECT NOT pg_has_role('pg_read_all_stats', 'USAGE') AND EXISTS (
                SELECT 1 FROM pg_stat_activity
                WHERE datname = current_database() AND usename IS DISTINCT FROM current_user
            ) AS rows_unseen
        )
        SELECT LEAST(
            GREATEST(now.xmax, (SELECT max(xid) + 1 FROM widened)),
            (SELECT min(xid) FROM widened WHERE db = current_database()),
            CASE WHEN hidden.rows_unseen THEN now.xmin END
        )
        FROM now, hidden
        """
    )

    def settled_bound(self, conn: Connection) -> int | None:
        return int(conn.execute(self._BOUND).scalar_one())

    def rebase(self, conn: Connection, position: Position) -> Position:
        return position  # transaction ids and the identity never go backwards


class _SQLiteOrder:
    def settled_bound(self, conn: Connection) -> int | None:
        return None

    def rebase(self, conn: Connection, position: Position) -> Position:
        # SQLite reuses ids above the largest left: retention that emptied the log restarts them.
        top = conn.execute(select(func.max(events_t.c.id))).scalar()
        return START if top is None or top < position[1] else position


def commit_order(conn: Connection) -> CommitOrder:
    return _PostgresOrder() if conn.dialect.name == "postgresql" else _SQLiteOrder()


def _after(position: Position) -> ColumnElement[bool]:
    return tuple_(events_t.c.commit_tx, events_t.c.id) > tuple_(*position)


def read_after(
    conn: Connection,
    position: Position,
    limit: int,
    *,
    filters: tuple[ColumnElement[bool], ...] = (),
    settled_only: bool = True,
) -> list[LogEntry]:
    """Up to ``limit`` events after ``position``, in commit order: only settled ones (no later
    commit can precede them), unless ``settled_only`` is off (a one-off snapshot, as a replay
    is)."""
    conditions = [_after(position), *filters]
    bound = commit_order(conn).settled_bound(conn) if settled_only else None
    if bound is not None:
        conditions.append(events_t.c.commit_tx < bound)
    rows = conn.execute(
        select(events_t.c.commit_tx, events_t.c.id, events_t.c.received_at, events_t.c.payload)
        .where(*conditions)
        .order_by(events_t.c.commit_tx, events_t.c.id)
        .limit(limit)
    ).all()
    return [LogEntry((row[0], row[1]), row[2], row[3]) for row in rows]


def head(conn: Connection) -> Position:
    """The position after every settled row: where a new target starts."""
    bound = commit_order(conn).settled_bound(conn)
    if bound is None:
        top = conn.execute(select(func.max(events_t.c.id))).scalar()
        return (0, int(top or 0))
    return (bound - 1, _MAX_ID)


def backlog(conn: Connection, position: Position, *, cap: int = 1_000_000) -> Backlog:
    """How many committed events wait after ``position`` (counted up to ``cap``)."""
    waiting = select(events_t.c.received_at).where(_after(position)).limit(cap)
    count = int(conn.execute(select(func.count()).select_from(waiting.subquery())).scalar_one())
    oldest = None
    if count:
        oldest = conn.execute(
            select(events_t.c.received_at)
            .where(_after(position))
            .order_by(events_t.c.commit_tx, events_t.c.id)
            .limit(1)
        ).scalar()
    return Backlog(count=count, capped=count >= cap, oldest_received_at=oldest)
