"""Project raw events already in the log with the in-database program (PostgreSQL only).

``project_in_database`` is the PostgreSQL implementation of "project this batch of raw events in
this transaction": it hands the batch's content hashes to ``mllineage_project`` (installed by
migration 0005, text in ``pg_program``), which reads the events from ``lineage_events`` and
upserts every graph table set-based, in one round trip. The graph it leaves is the one the
Python fold (``ingest.fold`` + ``ingest.store``) leaves for the same events in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA
from sqlalchemy.types import DateTime

_PROJECT = text("SELECT mllineage_project(:hashes, :now)").bindparams(
    bindparam("hashes", type_=ARRAY(BYTEA)),
    bindparam("now", type_=DateTime(timezone=True)),
)


def project_in_database(conn: Connection, digests: Sequence[bytes], *, now: datetime) -> int:
    """Project the raw events with content hashes ``digests`` on ``conn``; never commits.

    ``digests`` are projected in the order given (it decides ties between events with the same
    time, as in the fold); unknown hashes are ignored; returns how many events were projected.
    ``now`` stamps rows the batch creates (namespaces, runs), like ``received_at`` does in the
    Python path. Raises if the connection is not PostgreSQL or migration 0005 has not run.
    """
    if conn.dialect.name != "postgresql":
        raise ValueError("the in-database projection needs PostgreSQL")
    projected: int = conn.execute(_PROJECT, {"hashes": list(digests), "now": now}).scalar_one()
    return projected
