"""Marquez's ``GET /api/v1/jobs``: jobs of every namespace, optionally by their latest run's state.

A job's latest run is its most recent by start (else first event), as on the job pages. The
``states`` filter takes our run states (OpenLineage event types, None: no state yet); a job without runs only
appears when no filter is given. Ordered by namespace, then name (stable paging).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, func, or_, select

from mllineage.collector.db.tables import jobs_t, namespaces_t, runs_t
from mllineage.collector.queries import details
from mllineage.collector.queries.catalog import JobRecord, Listing, job_records


def list_all_jobs(
    conn: Connection, *, states: Collection[str | None] | None, limit: int, offset: int
) -> Listing[JobRecord]:
    started = func.coalesce(runs_t.c.started_at, runs_t.c.first_event_time)
    rank = func.row_number().over(
        partition_by=runs_t.c.job_id, order_by=(started.desc(), runs_t.c.uuid.desc())
    )
    ranked = select(runs_t.c.job_id, runs_t.c.state, rank.label("rn")).subquery()
    latest = select(ranked.c.job_id, ranked.c.state).where(ranked.c.rn == 1).subquery()
    jobs = jobs_t.join(namespaces_t, namespaces_t.c.id == jobs_t.c.namespace_id)
    conditions = []
    if states is not None:
        jobs = jobs.join(latest, latest.c.job_id == jobs_t.c.id)
        named = sorted(state for state in states if state is not None)
        wanted = latest.c.state.in_(named)
        conditions.append(or_(wanted, latest.c.state.is_(None)) if None in states else wanted)
    total = conn.execute(select(func.count()).select_from(jobs).where(*conditions)).scalar_one()
    ids = list(
        conn.execute(
            select(jobs_t.c.id)
            .select_from(jobs)
            .where(*conditions)
            .order_by(namespaces_t.c.name, jobs_t.c.name)
            .limit(limit)
            .offset(offset)
        ).scalars()
    )
    infos = details.jobs(conn, ids)
    return Listing(job_records(conn, [infos[i] for i in ids if i in infos]), total)
