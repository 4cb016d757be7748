"""PostgreSQL's projector for ``project_batch``: the in-database SQL program for large batches.

``project_postgres`` hands a batch of at least ``SQL_MIN_BATCH`` events to ``mllineage_project``
(``ingest.pg_projection``: one statement, everything set-based inside the database) and smaller
batches to the Python fold. Both leave the same graph (``tests/collector/test_pg_projection.py``
compares them table by table); the split is only about cost: each call of the SQL program has a
fixed cost (staging tables created, statements planned) that the fold undercuts below a few hundred
events, while above that the program costs less CPU and no per-statement round trips
(``bench/projection.py``, figures in bench/README.md).
"""

from __future__ import annotations

from mllineage.collector.ingest.pg_projection import project_in_database
from mllineage.collector.ingest.store.batch import RawBatch
from mllineage.collector.ingest.store.context import StoreContext
from mllineage.collector.ingest.store.python_fold import project_python

#: Batches at least this large are projected by the SQL program.
SQL_MIN_BATCH = 500


def project_postgres(ctx: StoreContext, batch: RawBatch) -> None:
    """Project ``batch`` on ``ctx``'s PostgreSQL connection (not committed).

    The SQL program processes the events in ``batch.digests`` order, the order the fold folds
    them in, so ties between events stamped alike break the same way.
    """
    if len(batch.digests) < SQL_MIN_BATCH:
        project_python(ctx, batch)
        return
    project_in_database(ctx.conn, batch.digests, now=batch.now)
