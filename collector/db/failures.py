"""The one classification of database errors; every caller (ingest, reads, probes) asks here.

Each ``DBAPIError`` falls in exactly one ``Failure`` class, and the HTTP answer follows from it:

- ``UNAVAILABLE`` (503 + ``Retry-After``): the database cannot serve us now: connection lost or
  refused, server shutting down or restarting, too many clients, out of disk or memory, a statement
  cancelled (``57014``, a statement timeout), SQLite's file locked for too long or missing its
  tables. Nothing was half-written; retrying later is right.
- ``CONFLICT`` (retried at once, inside the writer): a serialization failure or deadlock between
  concurrent transactions, or SQLite's writer lock.
- ``REFUSED_INPUT`` (422 for that event): the database rejected a value (SQLSTATE class ``22``
  data exception, ``54`` program limit exceeded such as an index row too large). Validation
  refuses such input first; this is the safety net, so one event never becomes a 5xx.
- ``INTERNAL`` (500): anything else is our bug.
"""

from __future__ import annotations

import enum
import logging

from sqlalchemy.exc import DBAPIError, OperationalError

from mllineage.collector.errors import DatabaseUnavailable

log = logging.getLogger(__name__)


class Failure(enum.Enum):
    UNAVAILABLE = "unavailable"
    CONFLICT = "conflict"
    REFUSED_INPUT = "refused_input"
    INTERNAL = "internal"


#: PostgreSQL SQLSTATEs worth retrying the same transaction for: serialization failure, deadlock.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
#: SQLSTATE classes meaning "cannot serve now": connection exception (08), operator intervention
#: (57: shutdown, crash recovery, query cancelled), insufficient resources (53), system error (58).
UNAVAILABLE_CLASSES = ("08", "57", "53", "58")
#: SQLSTATE classes meaning "this value cannot be stored": data exception, program limit exceeded.
REFUSED_INPUT_CLASSES = ("22", "54")


def sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def classify(exc: DBAPIError) -> Failure:
    """The class of ``exc`` (see the module docstring)."""
    state = sqlstate(exc) or ""
    if state in RETRYABLE_SQLSTATES or "database is locked" in str(exc.orig):
        return Failure.CONFLICT
    if exc.connection_invalidated or state.startswith(UNAVAILABLE_CLASSES):
        return Failure.UNAVAILABLE
    if state.startswith(REFUSED_INPUT_CLASSES):
        return Failure.REFUSED_INPUT
    if isinstance(exc, OperationalError) and state == "":
        # No SQLSTATE: the driver could not talk to a server (psycopg), or SQLite's file is
        # unreadable, locked or missing its tables.
        return Failure.UNAVAILABLE
    return Failure.INTERNAL


def is_retryable(exc: DBAPIError) -> bool:
    """A conflict between concurrent transactions (or SQLite's writer lock): retry at once."""
    return classify(exc) is Failure.CONFLICT


def is_unavailable(exc: DBAPIError) -> bool:
    """The database cannot serve now; clients should retry later (HTTP 503)."""
    return classify(exc) in (Failure.UNAVAILABLE, Failure.CONFLICT)


def unavailable(exc: DBAPIError, retry_after: int) -> DatabaseUnavailable:
    """The ``DatabaseUnavailable`` to raise for ``exc``. The driver's message (which may name the
    database host and port) is logged here and never reaches a client: the answer only says
    which kind of trouble it is."""
    log.warning("database unavailable: %s", reason(exc))
    return DatabaseUnavailable(public_reason(exc), retry_after=retry_after)


def public_reason(exc: DBAPIError) -> str:
    """What a client may be told about ``exc``: its class and SQLSTATE, nothing from the server."""
    state = sqlstate(exc)
    failure = classify(exc)
    if failure is Failure.CONFLICT:
        what = "the database is busy with conflicting writes"
    elif failure is not Failure.UNAVAILABLE:
        what = "the database answered with an error"
    elif state is not None and state.startswith("57014"):
        what = "the database cancelled the statement (timeout)"
    elif state is not None and state.startswith("53"):
        what = "the database is out of resources"
    else:
        what = "the database cannot be reached"
    return f"{what} (SQLSTATE {state})" if state else what


def reason(exc: DBAPIError) -> str:
    """The first line of the driver's message (never the SQL or its parameters). For logs only:
    it may name the database host and port."""
    return str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
