"""Classify database errors: unreachable (retry later, HTTP 503) versus everything else."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

#: PostgreSQL SQLSTATEs worth retrying the same transaction for: serialization failure, deadlock.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def is_retryable(exc: DBAPIError) -> bool:
    """A conflict between concurrent transactions (or SQLite's writer lock): retry at once."""
    return sqlstate(exc) in RETRYABLE_SQLSTATES or "database is locked" in str(exc.orig)


def is_unavailable(exc: DBAPIError) -> bool:
    """Connection-level trouble: server down or restarting, too many clients, no disk, SQLite
    file locked or missing its tables. Clients should retry later."""
    if exc.connection_invalidated:
        return True
    state = sqlstate(exc) or ""
    if state.startswith(("08", "57P", "53")):
        return True
    return isinstance(exc, OperationalError) and state == ""


def reason(exc: DBAPIError) -> str:
    """The first line of the driver's message (never the SQL or its parameters)."""
    return str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
