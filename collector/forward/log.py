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

from sqlalchemy import ColumnElement, Connection, func, select, text, true, tuple_

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
    def settled(self) -> ColumnElement[bool]:
        """Rows that no later commit can precede in the log's order."""

    def head(self, conn: Connection) -> Position:
        """The position after every settled row: where a new target starts."""

    def rebase(self, conn: Connection, position: Position) -> Position:
        """``position``, or an earlier one if the log was emptied and its ids started over."""


class _PostgresOrder:
    _XMIN = "(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"

    def settled(self) -> ColumnElement[bool]:
        return events_t.c.commit_tx < text(self._XMIN)

    def head(self, conn: Connection) -> Position:
        xmin = int(conn.execute(text(f"SELECT {self._XMIN}")).scalar_one())
        return (xmin - 1, _MAX_ID)

    def rebase(self, conn: Connection, position: Position) -> Position:
        return position  # transaction ids and the identity never go backwards


class _SQLiteOrder:
    def settled(self) -> ColumnElement[bool]:
        return true()

    def head(self, conn: Connection) -> Position:
        top = conn.execute(select(func.max(events_t.c.id))).scalar()
        return (0, int(top or 0))

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
) -> list[LogEntry]:
    """Up to ``limit`` settled events after ``position``, in commit order."""
    order = commit_order(conn)
    rows = conn.execute(
        select(events_t.c.commit_tx, events_t.c.id, events_t.c.received_at, events_t.c.payload)
        .where(_after(position), order.settled(), *filters)
        .order_by(events_t.c.commit_tx, events_t.c.id)
        .limit(limit)
    ).all()
    return [LogEntry((row[0], row[1]), row[2], row[3]) for row in rows]


def head(conn: Connection) -> Position:
    return commit_order(conn).head(conn)


def backlog(conn: Connection, position: Position, *, cap: int = 1_000_000) -> Backlog:
    """How many settled events wait after ``position`` (counted up to ``cap``)."""
    settled = commit_order(conn).settled()
    waiting = select(events_t.c.received_at).where(_after(position), settled).limit(cap)
    count = int(conn.execute(select(func.count()).select_from(waiting.subquery())).scalar_one())
    oldest = None
    if count:
        oldest = conn.execute(
            select(events_t.c.received_at)
            .where(_after(position), settled)
            .order_by(events_t.c.commit_tx, events_t.c.id)
            .limit(1)
        ).scalar()
    return Backlog(count=count, capped=count >= cap, oldest_received_at=oldest)
