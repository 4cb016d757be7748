"""A job page's recent runs (Marquez's ``latestRuns``) and the parent job of a run.

Most recent first by start (else first event), the order ``details.latest_job_runs`` uses, so
the first of ``latest_runs`` is a job's ``latestRun``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, select

from mllineage.collector.db.tables import runs_t
from mllineage.collector.queries import details
from mllineage.collector.queries.details import RunInfo
from mllineage.collector.queries.membership import fetch_in

#: How many runs a job answer lists in ``latestRuns`` (Marquez lists 10).
LATEST_RUNS = 10


def latest_runs(
    conn: Connection, job_ids: Iterable[int], *, per_job: int = LATEST_RUNS
) -> dict[int, list[RunInfo]]:
    """Up to ``per_job`` most recent runs of each job, most recent first."""
    started = func.coalesce(runs_t.c.started_at, runs_t.c.first_event_time)
    rank = func.row_number().over(
        partition_by=runs_t.c.job_id, order_by=(started.desc(), runs_t.c.uuid.desc())
    )

    def build(cond: ColumnElement[bool]) -> Select[Any]:
        ranked = select(runs_t.c.uuid, runs_t.c.job_id, rank.label("rn")).where(cond).subquery()
        return select(ranked.c.uuid, ranked.c.job_id, ranked.c.rn).where(ranked.c.rn <= per_job)

    rows = sorted(fetch_in(conn, runs_t.c.job_id, job_ids, build), key=lambda row: row[2])
    infos = details.runs(conn, [row[0] for row in rows])
    found: dict[int, list[RunInfo]] = {}
    for uuid, job_id, _ in rows:
        found.setdefault(job_id, []).append(infos[uuid])
    return found


def parent_jobs(conn: Connection, run_uuids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """``(namespace, name)`` of each run's parent job, for runs that have one."""
    rows = fetch_in(
        conn,
        runs_t.c.uuid,
        run_uuids,
        lambda cond: select(
            runs_t.c.uuid, runs_t.c.parent_job_namespace, runs_t.c.parent_job_name
        ).where(cond, runs_t.c.parent_job_name.is_not(None)),
    )
    return {uuid: (namespace or "", name) for uuid, namespace, name in rows}
