"""The raw log's bulk path on PostgreSQL: ``COPY`` into a staging table, then one append.

Contract of ``copy_append(conn, events, received_at)``: the same effect as
``raw_log.append_events`` on the same events (each distinct digest claimed in
``event_digests``; the events whose claim won stored in ``lineage_events`` and marked in
``projection_backlog``; events already in the log skipped, exactly like the HTTP path), and the
same return value (the digests that were new), but the rows travel by ``COPY ... FROM STDIN``
(psycopg's ``cursor.copy``) into a temporary table instead of as one JSON bind parameter, and
one statement (data-modifying CTEs) claims, appends and marks from there. COPY skips the JSON
document and ``jsonb_to_recordset`` the ingest path parses, which is most of the server's work
per event in a large batch. Nothing is committed; the staging table empties at commit (``ON
COMMIT DELETE ROWS``) and lives as long as the session, so a connection creates it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson
from sqlalchemy import Connection

from mllineage.collector.ingest.validate import ParsedEvent
from mllineage.schemas.node_ids import normalise_run_id

#: Columns staged and appended, in COPY order (``id`` and ``commit_tx`` are the table's own).
COLUMNS = (
    "event_hash",
    "kind",
    "event_type",
    "event_time",
    "received_at",
    "run_uuid",
    "job_namespace",
    "job_name",
    "producer",
    "payload",
    "warnings",
)

_STAGE = "_mllineage_import_stage"

_CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (
    event_hash bytea NOT NULL, kind varchar(8) NOT NULL, event_type varchar(16),
    event_time timestamptz NOT NULL, received_at timestamptz NOT NULL, run_uuid varchar(255),
    job_namespace text, job_name text, producer text NOT NULL, payload jsonb NOT NULL,
    warnings jsonb
) ON COMMIT DELETE ROWS
"""

_COLUMN_LIST = ", ".join(COLUMNS)

# Digests claimed in key order (sorted keys: concurrent importers lock them in one order).
_APPEND = """
WITH claimed AS (
    INSERT INTO event_digests (event_hash, received_at)
    SELECT event_hash, received_at FROM _mllineage_import_stage ORDER BY event_hash
    ON CONFLICT (event_hash) DO NOTHING
    RETURNING event_hash, received_at
), raw AS (
    INSERT INTO lineage_events (event_hash, kind, event_type, event_time, received_at, run_uuid,
                                job_namespace, job_name, producer, payload, warnings)
    SELECT s.event_hash, s.kind, s.event_type, s.event_time, s.received_at, s.run_uuid,
           s.job_namespace, s.job_name, s.producer, s.payload, s.warnings
    FROM _mllineage_import_stage s JOIN claimed c ON c.event_hash = s.event_hash
)
INSERT INTO projection_backlog (event_hash, received_at)
SELECT event_hash, received_at FROM claimed ORDER BY event_hash
RETURNING event_hash
"""


def copy_append(
    conn: Connection, events: Sequence[ParsedEvent], received_at: datetime
) -> set[bytes]:
    """Append the new ``events`` to the raw log and the backlog by COPY; their digests.

    PostgreSQL (psycopg 3) only; see the module docstring. Duplicates within ``events`` are
    staged once."""
    distinct = {parsed.digest: parsed for parsed in events}
    if not distinct:
        return set()
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(_CREATE_STAGE)
        with cursor.copy(f"COPY {_STAGE} ({_COLUMN_LIST}) FROM STDIN") as copy:
            for digest in sorted(distinct):
                copy.write_row(_stage_row(distinct[digest], received_at))
        cursor.execute(_APPEND)
        return {bytes(row[0]) for row in cursor.fetchall()}


def _stage_row(parsed: ParsedEvent, received_at: datetime) -> tuple[object, ...]:
    """The staged row of ``parsed``: the values ``raw_log.event_row`` stores, in ``COLUMNS``
    order, JSON columns as text (COPY parses them as the column's type)."""
    event = parsed.event
    job = getattr(event, "job", None)
    run = getattr(event, "run", None)
    warnings = [{"loc": w.loc, "msg": w.msg} for w in parsed.warnings]
    return (
        parsed.digest,
        parsed.kind,
        parsed.event_type,
        parsed.event_time,
        received_at,
        normalise_run_id(run.runId) if run is not None else None,
        job.namespace if job is not None else None,
        job.name if job is not None else None,
        event.producer,
        parsed.canonical.decode(),
        orjson.dumps(warnings).decode() if warnings else None,
    )
