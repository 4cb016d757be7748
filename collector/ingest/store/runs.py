"""Runs, dataset versions and run I/O (run -> dataset version edges, kept historically).

Contracts (the same merges as ``fold``, in SQL, so batch order never matters):

- a run's state is the greatest ``(terminal, time, hash)`` candidate; it belongs to the job of its
  earliest event; ``started_at``/``first_event_time`` only move back, ``last_event_time`` forward;
- a dataset version reported by its producing run outranks a reader's sighting; then the latest
  event wins;
- run I/O keeps the latest event's facets and the latest named version.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Executable, and_, or_, select, tuple_
from sqlalchemy.dialects import postgresql

from mllineage.collector.db.tables import run_io_t, runs_t, versions_t
from mllineage.collector.ingest.fold import BatchFold, DatasetKey, JobKey
from mllineage.collector.ingest.store.context import StoreContext
from mllineage.collector.ingest.store.dialect import (
    case_,
    chunks,
    greatest,
    least,
    newer,
    stamp_columns,
)
from mllineage.collector.ingest.store.facets import Digests

#: (run, job, completed, rank time) of a run as stored: what a job's current run is chosen by.
RunRank = tuple[str, int, bool, datetime]


def upsert_versions(
    ctx: StoreContext, fold: BatchFold, dataset_ids: dict[DatasetKey, int], digests: Digests
) -> dict[tuple[int, str], int]:
    """Upsert the fold's dataset versions (facets as a map of digests of bodies ``digests``
    names, stored by ``facets.store_bodies``); ids by (dataset id, version)."""
    if not fold.versions:
        return {}
    rows = [
        {
            "dataset_id": dataset_ids[(ns, name)],
            "version": version,
            "created_at": v.created_at,
            "run_uuid": v.run_uuid,
            "facet_digests": {k: digests[id(b)].hex() for k, b in v.facets.items()},
            **stamp_columns(v.stamp),
        }
        for (ns, name, version), v in sorted(fold.versions.items())
    ]
    written = ctx.rows.write(versions_t, rows, _producer_then_latest)
    return {(dataset_id, version): id_ for dataset_id, version, id_ in written}


def run_jobs(ctx: StoreContext, run_uuids: list[str]) -> dict[str, int]:
    """The job each already-stored run belongs to."""
    found: dict[str, int] = {}
    for chunk in chunks(run_uuids):
        query = select(runs_t.c.uuid, runs_t.c.job_id).where(runs_t.c.uuid.in_(chunk))
        found.update(dict(ctx.conn.execute(query).all()))
    return found


def upsert_runs(
    ctx: StoreContext, fold: BatchFold, job_ids: dict[JobKey, int], now: datetime
) -> list[RunRank]:
    """Upsert runs; returns their ranks as stored after the upsert."""
    if not fold.runs:
        return []
    rows = [
        {
            "uuid": run_uuid,
            "job_id": job_ids[run.job],
            "state": run.state,
            "state_time": run.state_time,
            "state_terminal": run.state_terminal,
            "state_hash": run.state_hash,
            "started_at": run.started_at,
            "ended_at": run.ended_at,
            "first_event_time": run.first_event_time,
            "last_event_time": run.last_event_time,
            "created_at": now,
        }
        for run_uuid, run in sorted(fold.runs.items())
    ]
    ranks = []
    for run_uuid, job_id, state, ended_at, last_event_time in ctx.rows.write(
        runs_t, rows, _merge_run
    ):
        completed = state == "COMPLETE"
        ranks.append((run_uuid, job_id, completed, ended_at if completed else last_event_time))
    return ranks


def upsert_run_io(
    ctx: StoreContext,
    fold: BatchFold,
    dataset_ids: dict[DatasetKey, int],
    version_ids: dict[tuple[int, str], int],
) -> None:
    """Upsert the run -> dataset (version) edges of the fold."""
    if not fold.run_io:
        return
    rows = []
    for (run, direction, ns, name), io in sorted(fold.run_io.items()):
        dataset_id = dataset_ids[(ns, name)]
        rows.append(
            {
                "run_uuid": run,
                "direction": direction,
                "dataset_id": dataset_id,
                "version_id": version_ids.get((dataset_id, io.version)) if io.version else None,
                **stamp_columns(io.stamp),
                "facets": io.facets,
            }
        )
    ctx.rows.write(run_io_t, rows, _merge_run_io)


def _producer_then_latest(stmt: postgresql.Insert) -> Executable:
    """Upsert a dataset version; returns (dataset_id, version, id) of every row given."""
    new, old = stmt.excluded, versions_t.c
    # The producer's report outranks a reader's sighting; then the latest event wins.
    outranks = or_(
        and_(new.run_uuid.is_not(None), old.run_uuid.is_(None)),
        and_(new.run_uuid.is_(None) == old.run_uuid.is_(None), newer(new, old)),
    )
    return stmt.on_conflict_do_update(
        index_elements=["dataset_id", "version"],
        set_={
            "created_at": least(new.created_at, old.created_at),
            "run_uuid": case_(outranks, new.run_uuid, old.run_uuid),
            "facet_digests": case_(outranks, new.facet_digests, old.facet_digests),
            "event_time": case_(outranks, new.event_time, old.event_time),
            "event_hash": case_(outranks, new.event_hash, old.event_hash),
        },
    ).returning(old.dataset_id, old.version, old.id)  # every row: the update has no WHERE


def _merge_run(stmt: postgresql.Insert) -> Executable:
    """The fold's run merge, in SQL: greatest (terminal, time, hash) state; earliest event's job."""
    new, old = stmt.excluded, runs_t.c
    wins = and_(
        new.state.is_not(None),
        or_(
            old.state.is_(None),
            tuple_(new.state_terminal, new.state_time, new.state_hash)
            > tuple_(old.state_terminal, old.state_time, old.state_hash),
        ),
    )
    earlier = new.first_event_time < old.first_event_time
    return stmt.on_conflict_do_update(
        index_elements=["uuid"],
        set_={
            "job_id": case_(earlier, new.job_id, old.job_id),
            "state": case_(wins, new.state, old.state),
            "state_time": case_(wins, new.state_time, old.state_time),
            "state_terminal": case_(wins, new.state_terminal, old.state_terminal),
            "state_hash": case_(wins, new.state_hash, old.state_hash),
            "ended_at": case_(wins, new.ended_at, old.ended_at),
            "started_at": least(new.started_at, old.started_at),
            "first_event_time": least(new.first_event_time, old.first_event_time),
            "last_event_time": greatest(new.last_event_time, old.last_event_time),
        },
    ).returning(old.uuid, old.job_id, old.state, old.ended_at, old.last_event_time)


def _merge_run_io(stmt: postgresql.Insert) -> Executable:
    """Same merge as ``RunIOFold.merge``: latest event's facets, latest named version."""
    new, old = stmt.excluded, run_io_t.c
    is_newer = newer(new, old)
    takes_version = and_(new.version_id.is_not(None), or_(old.version_id.is_(None), is_newer))
    return stmt.on_conflict_do_update(
        index_elements=["run_uuid", "direction", "dataset_id"],
        set_={
            "version_id": case_(takes_version, new.version_id, old.version_id),
            "event_time": case_(is_newer, new.event_time, old.event_time),
            "event_hash": case_(is_newer, new.event_hash, old.event_hash),
            "facets": case_(and_(is_newer, new.facets.is_not(None)), new.facets, old.facets),
        },
    )
