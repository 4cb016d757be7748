"""A job's current edges: its static I/O, or the I/O of its current run.

Contracts: a job's current run is its best run by (completed, rank time, run id) — completed beats
not completed, then later beats earlier; ``job_edges`` of a job are exactly its current run's
run I/O, or its static I/O (job events' declared inputs/outputs) while it has no run. A run that
moved to another job makes both jobs' current runs be recomputed from scratch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Executable,
    MetaData,
    Table,
    Text,
    delete,
    or_,
    select,
    tuple_,
    update,
)

from mllineage.collector.db.tables import job_edges_t, jobs_t, run_io_t, runs_t, static_io_t
from mllineage.collector.db.types import UTCDateTime
from mllineage.collector.ingest.fold import BatchFold, DatasetKey, JobKey
from mllineage.collector.ingest.store.context import StoreContext
from mllineage.collector.ingest.store.dialect import case_, chunks, do_nothing_on
from mllineage.collector.ingest.store.runs import RunRank


def insert_static_io(
    ctx: StoreContext,
    fold: BatchFold,
    job_ids: dict[JobKey, int],
    dataset_ids: dict[DatasetKey, int],
) -> None:
    """Record the job -> dataset edges job events declare (never removed)."""
    if not fold.static_io:
        return
    rows = [
        {
            "job_id": job_ids[(job_ns, job_name)],
            "direction": direction,
            "dataset_id": dataset_ids[(ds_ns, ds_name)],
        }
        for job_ns, job_name, direction, ds_ns, ds_name in sorted(fold.static_io)
    ]
    ctx.rows.write(static_io_t, rows, do_nothing_on())


def update_current_runs(
    ctx: StoreContext, ranks: list[RunRank], fold: BatchFold, job_ids: dict[JobKey, int]
) -> None:
    """Move each job's current run forward and rebuild the edges of jobs whose edges moved."""
    best: dict[int, tuple[bool, datetime, str]] = {}
    for run_uuid, job_id, completed, at in ranks:
        candidate = (completed, at, run_uuid)
        if job_id not in best or candidate > best[job_id]:
            best[job_id] = candidate
    if best:
        rows = [
            {"job": job, "run": run, "complete": completed, "time": at}
            for job, (completed, at, run) in sorted(best.items())
        ]
        ctx.rows.execute_from(_CURRENT_RUNS, rows, _advance_current_run)
    static_jobs = {job_ids[(ns, name)] for ns, name, _, _, _ in fold.static_io}
    candidates = sorted(set(best) | static_jobs)
    rebuild_from_runs: dict[int, str] = {}
    rebuild_static: list[int] = []
    for chunk in chunks(candidates):
        query = select(jobs_t.c.id, jobs_t.c.current_run_uuid).where(jobs_t.c.id.in_(chunk))
        for job_id, current in ctx.conn.execute(query):
            if current is None:
                rebuild_static.append(job_id)
            elif current in fold.runs:  # the current run changed or gained edges
                rebuild_from_runs[job_id] = current
    rebuild_edges(ctx, rebuild_from_runs, rebuild_static)


def recompute_current_runs(ctx: StoreContext, job_ids: list[int]) -> None:
    """Pick each job's current run from scratch (for jobs that lost a run to another job)."""
    completed = runs_t.c.state == "COMPLETE"
    rank_time = case_(completed, runs_t.c.ended_at, runs_t.c.last_event_time)
    from_runs: dict[int, str] = {}
    for job_id in job_ids:
        best = ctx.conn.execute(
            select(runs_t.c.uuid, completed, rank_time)
            .where(runs_t.c.job_id == job_id)
            .order_by(completed.desc(), rank_time.desc(), runs_t.c.uuid.desc())
            .limit(1)
        ).first()
        ctx.conn.execute(
            update(jobs_t)
            .where(jobs_t.c.id == job_id)
            .values(
                current_run_uuid=best[0] if best else None,
                current_run_complete=best[1] if best else None,
                current_run_time=best[2] if best else None,
            )
        )
        if best:
            from_runs[job_id] = best[0]
    rebuild_edges(ctx, from_runs, [j for j in job_ids if j not in from_runs])


def rebuild_edges(ctx: StoreContext, from_runs: dict[int, str], static: list[int]) -> None:
    """Replace the edges of the jobs of ``from_runs`` (by their run) and of ``static``."""
    jobs = sorted(set(from_runs) | set(static))
    for chunk in chunks(jobs):
        ctx.conn.execute(delete(job_edges_t).where(job_edges_t.c.job_id.in_(chunk)))
    if from_runs:
        rows = [{"job": job, "run": run} for job, run in sorted(from_runs.items())]
        ctx.rows.execute_from(_JOB_RUNS, rows, _edges_of_runs)
    for chunk in chunks(static):
        source = select(
            static_io_t.c.job_id, static_io_t.c.direction, static_io_t.c.dataset_id
        ).where(static_io_t.c.job_id.in_(chunk))
        ctx.conn.execute(
            job_edges_t.insert().from_select(["job_id", "direction", "dataset_id"], source)
        )


#: Shapes of the row sets ``execute_from`` feeds to statements.
_CURRENT_RUNS = Table(
    "current_runs",
    MetaData(),
    Column("job", BigInteger),
    Column("run", Text),
    Column("complete", Boolean),
    Column("time", UTCDateTime()),
)
_JOB_RUNS = Table("job_runs", MetaData(), Column("job", BigInteger), Column("run", Text))


def _edges_of_runs(source: Any) -> Executable:
    """The job's current edges are its current run's edges."""
    edges = select(source.job, run_io_t.c.direction, run_io_t.c.dataset_id).where(
        run_io_t.c.run_uuid == source.run
    )
    return job_edges_t.insert().from_select(["job_id", "direction", "dataset_id"], edges)


def _advance_current_run(source: Any) -> Executable:
    """Set a job's current run to the batch's best run when that run outranks the current one
    (completed beats not completed, then later beats earlier), or is the current one."""
    jobs = jobs_t.c
    return (
        update(jobs_t)
        .where(
            jobs.id == source.job,
            or_(
                jobs.current_run_uuid.is_(None),
                jobs.current_run_uuid == source.run,
                tuple_(source.complete, source.time)
                > tuple_(jobs.current_run_complete, jobs.current_run_time),
            ),
        )
        .values(
            current_run_uuid=source.run,
            current_run_complete=source.complete,
            current_run_time=source.time,
        )
    )
