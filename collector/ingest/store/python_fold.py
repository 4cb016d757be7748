"""The projection in Python: fold the batch in memory, then upsert family by family.

The reference implementation of ``project_batch`` (both databases; SQLite keeps it for good).
Order matters only through ids: namespaces before datasets and jobs, versions before run I/O,
runs before current runs and edges. Every statement is an idempotent, order-free upsert, so a
re-projected batch changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from mllineage.collector.ingest.fold import BatchFold
from mllineage.collector.ingest.store.batch import RawBatch
from mllineage.collector.ingest.store.context import StoreContext
from mllineage.collector.ingest.store.edges import (
    insert_static_io,
    recompute_current_runs,
    update_current_runs,
)
from mllineage.collector.ingest.store.entities import (
    ensure_namespaces,
    upsert_datasets,
    upsert_jobs,
)
from mllineage.collector.ingest.store.facets import (
    store_bodies,
    upsert_dataset_facets,
    upsert_job_facets,
    upsert_run_facets,
)
from mllineage.collector.ingest.store.runs import (
    run_jobs,
    upsert_run_io,
    upsert_runs,
    upsert_versions,
)


def project_python(ctx: StoreContext, batch: RawBatch) -> None:
    """Project ``batch`` on ``ctx`` (not committed)."""
    if not batch.digests:
        return
    fold = BatchFold()
    for parsed in batch.parsed(ctx.conn):
        fold.add(parsed)
    project_fold(ctx, fold, batch.now)


def project_fold(ctx: StoreContext, fold: BatchFold, now: datetime) -> None:
    """Upsert what ``fold`` implies, family by family (not committed)."""
    ns_ids = ensure_namespaces(ctx, fold.namespaces, now)
    dataset_ids = upsert_datasets(ctx, fold, ns_ids)
    job_ids = upsert_jobs(ctx, fold, ns_ids)
    digests = store_bodies(ctx, fold)
    upsert_dataset_facets(ctx, fold, dataset_ids, digests)
    version_ids = upsert_versions(ctx, fold, dataset_ids, digests)
    upsert_job_facets(ctx, fold, job_ids, digests)
    previous_jobs = run_jobs(ctx, sorted(fold.runs))
    run_ranks = upsert_runs(ctx, fold, job_ids, now)
    upsert_run_facets(ctx, fold, digests)
    upsert_run_io(ctx, fold, dataset_ids, version_ids)
    insert_static_io(ctx, fold, job_ids, dataset_ids)
    update_current_runs(ctx, run_ranks, fold, job_ids)
    job_now = {run: job for run, job, _, _ in run_ranks}
    moved = {old for run, old in previous_jobs.items() if old != job_now[run]}
    if moved:
        recompute_current_runs(ctx, sorted(moved))
