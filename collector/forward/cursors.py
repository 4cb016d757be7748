"""The durable per-target cursor over the raw log, and the events a target refused (parked).

Data functions: they take a connection and never commit; the forwarding worker owns the
transactions. The cursor only moves forward: ``advance`` is a compare-and-set on the position it
was read at, so two collector processes forwarding the same target never move it back (they may
both send an event, which at-least-once delivery allows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Insert, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mllineage.collector.db.tables import forward_cursors_t, forward_parked_t
from mllineage.collector.forward.log import LogEntry, Position, head


@dataclass(frozen=True, slots=True)
class Cursor:
    target: str
    position: Position
    forwarded: int
    parked: int


def _insert_ignoring_conflicts(conn: Connection, table: Table, row: dict[str, object]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement: Insert = dialect.insert(table).values(**row).on_conflict_do_nothing()
    conn.execute(statement)


def load_cursor(conn: Connection, target: str, now: datetime) -> Cursor:
    """The target's cursor; a target seen for the first time starts at the head of the log."""
    commit_tx, event_id = head(conn)
    _insert_ignoring_conflicts(
        conn,
        forward_cursors_t,
        {
            "target": target,
            "commit_tx": commit_tx,
            "event_id": event_id,
            "forwarded": 0,
            "parked": 0,
            "updated_at": now,
        },
    )
    row = conn.execute(
        select(
            forward_cursors_t.c.commit_tx,
            forward_cursors_t.c.event_id,
            forward_cursors_t.c.forwarded,
            forward_cursors_t.c.parked,
        ).where(forward_cursors_t.c.target == target)
    ).one()
    return Cursor(target, (row[0], row[1]), row[2], row[3])


def advance(
    conn: Connection, cursor: Cursor, to: Position, *, sent: int, parked: int, now: datetime
) -> Cursor | None:
    """Move ``cursor`` to ``to``; None if another process moved it first (reload it then)."""
    table = forward_cursors_t
    result = conn.execute(
        update(table)
        .where(
            table.c.target == cursor.target,
            table.c.commit_tx == cursor.position[0],
            table.c.event_id == cursor.position[1],
        )
        .values(
            commit_tx=to[0],
            event_id=to[1],
            forwarded=table.c.forwarded + sent,
            parked=table.c.parked + parked,
            updated_at=now,
        )
    )
    if result.rowcount != 1:
        return None
    return Cursor(cursor.target, to, cursor.forwarded + sent, cursor.parked + parked)


def park(
    conn: Connection, target: str, entry: LogEntry, *, attempts: int, error: str, now: datetime
) -> None:
    """Record that ``target`` refused ``entry`` ``attempts`` times; forwarding moves past it."""
    _insert_ignoring_conflicts(
        conn,
        forward_parked_t,
        {
            "target": target,
            "event_id": entry.position[1],
            "commit_tx": entry.position[0],
            "attempts": attempts,
            "error": error[:2000],
            "parked_at": now,
        },
    )
