"""Store a batch of validated events: raw log + graph projection, inside the caller's transaction.

``store_events`` never commits; the caller owns the transaction, so one event or a whole group
commit is atomic. Every write is an idempotent, set-based upsert (``INSERT ... ON CONFLICT``) whose
``WHERE`` clause keeps the newest value by event time, so duplicates, retries and out-of-order
events converge to the same graph. Events already stored (same content hash) change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Executable,
    LargeBinary,
    MetaData,
    Table,
    Text,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

from mllineage.collector.db.tables import (
    column_lineage_t,
    dataset_facets_t,
    datasets_t,
    digests_t,
    events_t,
    job_edges_t,
    job_facets_t,
    jobs_t,
    namespaces_t,
    run_facets_t,
    run_io_t,
    runs_t,
    static_io_t,
    symlinks_t,
    tags_t,
    versions_t,
)
from mllineage.collector.db.types import PreSerialized, UTCDateTime
from mllineage.collector.ingest.fold import (
    KIND_FACETS,
    BatchFold,
    DatasetKey,
    FacetValue,
    JobKey,
    column_lineage_inputs,
    dataset_kind,
    normalise_run_id,
)
from mllineage.collector.ingest.inferred import derive_inferred_edges
from mllineage.collector.ingest.validate import ParsedEvent

_CHUNK = 400
T = TypeVar("T")


@dataclass
class IdCache:
    """Surrogate ids of namespaces, datasets and jobs, which never change once a row exists.

    Shared by the transactions of one writer so known rows cost no round trip. Ids learned in a
    transaction are kept in ``StoreResult.learned`` and must be merged with ``merge`` only after
    that transaction committed; ``clear`` after any integrity error (rows deleted behind us).
    """

    namespaces: dict[str, int] = field(default_factory=dict)
    datasets: dict[tuple[int, str], int] = field(default_factory=dict)
    jobs: dict[tuple[int, str], int] = field(default_factory=dict)
    limit: int = 500_000

    def merge(self, other: IdCache) -> None:
        for mine, theirs in (
            (self.namespaces, other.namespaces),
            (self.datasets, other.datasets),
            (self.jobs, other.jobs),
        ):
            if len(mine) + len(theirs) > self.limit:
                mine.clear()
            mine.update(theirs)  # type: ignore[arg-type]

    def clear(self) -> None:
        self.namespaces.clear()
        self.datasets.clear()
        self.jobs.clear()


@dataclass(frozen=True, slots=True)
class StoreResult:
    """Per input event, in order: True if it was new, False if already stored (duplicate).

    ``learned``: ids this transaction found or created, for ``IdCache.merge`` after commit.
    """

    new: list[bool]
    learned: IdCache


def store_events(
    conn: Connection,
    events: Sequence[ParsedEvent],
    *,
    received_at: datetime,
    ids: IdCache | None = None,
) -> StoreResult:
    """Write ``events`` (raw + projection) on ``conn`` without committing."""
    writer = _Writer(conn, ids or IdCache())
    fresh_digests = writer.insert_raw(events, received_at)
    fold = BatchFold()
    seen: set[bytes] = set()
    for parsed in events:
        if parsed.digest in fresh_digests and parsed.digest not in seen:
            seen.add(parsed.digest)
            fold.add(parsed)
    if seen:
        writer.project(fold, received_at)
        derive_inferred_edges(conn, fold.runs)
    claimed: set[bytes] = set()
    new = []
    for parsed in events:
        is_new = parsed.digest in fresh_digests and parsed.digest not in claimed
        claimed.add(parsed.digest)
        new.append(is_new)
    return StoreResult(new, writer.learned)


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Writer:
    def __init__(self, conn: Connection, known: IdCache) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.known = known
        self.learned = IdCache()

    def write(
        self,
        table: Table,
        rows: list[dict[str, Any]],
        clause: Clause = None,
    ) -> list[tuple[Any, ...]]:
        """Insert ``rows`` (all with the same keys) with the ``ON CONFLICT``/``RETURNING`` that
        ``clause`` adds. On PostgreSQL the rows travel as one JSON document expanded by
        ``jsonb_to_recordset`` (``INSERT ... SELECT``): one bind parameter whatever the row count,
        which costs a fraction of a many-row ``VALUES`` statement or ``executemany``."""
        if self.dialect != "postgresql":
            result = self.conn.execute(_sqlite_insert(table, clause), rows)
        else:
            statement = _recordset_insert(table, tuple(rows[0]), clause)
            result = self.conn.execute(statement, {"rows": _rows_json(rows)})
        return [tuple(row) for row in result] if result.returns_rows else []

    def execute_from(
        self,
        source: Table,
        rows: list[dict[str, Any]],
        build: Callable[[Any], Executable],
    ) -> None:
        """Run the statement ``build(columns)`` once per row, set-based: ``columns`` are the
        columns of ``source`` (shape of ``rows``): a ``jsonb_to_recordset`` of the rows on
        PostgreSQL, else bind parameters of an executemany."""
        if self.dialect != "postgresql":
            statement = _bound_statement(source, build)
            self.conn.execute(statement, [{f"b_{k}": v for k, v in r.items()} for r in rows])
            return
        statement = _recordset_statement(source, tuple(rows[0]), build)
        self.conn.execute(statement, {"rows": _rows_json(rows)})

    # -- raw log ---------------------------------------------------------------------------------

    def insert_raw(self, events: Sequence[ParsedEvent], received_at: datetime) -> set[bytes]:
        """Claim each distinct digest in ``event_digests``; store the events whose claim won.

        Returns the digests that are new. Two transactions racing on the same event: the
        second waits on the first's digest row and then finds it taken.
        """
        distinct = {parsed.digest: parsed for parsed in events}
        if not distinct:
            return set()
        claimed = self.write(
            digests_t,
            [{"event_hash": d, "received_at": received_at} for d in sorted(distinct)],
            _claim_digests,
        )
        fresh = {bytes(row[0]) for row in claimed}
        if fresh:
            self.write(events_t, [_event_row(distinct[d], received_at) for d in sorted(fresh)])
        return fresh

    # -- projection ------------------------------------------------------------------------------

    def project(self, fold: BatchFold, now: datetime) -> None:
        ns_ids = self.ensure_namespaces(fold.namespaces, now)
        dataset_ids = self.upsert_datasets(fold, ns_ids)
        job_ids = self.upsert_jobs(fold, ns_ids)
        self.upsert_dataset_facets(fold, dataset_ids)
        version_ids = self.upsert_versions(fold, dataset_ids)
        self.upsert_job_facets(fold, job_ids)
        previous_jobs = self.run_jobs(sorted(fold.runs))
        run_ranks = self.upsert_runs(fold, job_ids, now)
        self.upsert_run_facets(fold)
        self.upsert_run_io(fold, dataset_ids, version_ids)
        self.insert_static_io(fold, job_ids, dataset_ids)
        self.update_current_runs(run_ranks, fold, job_ids)
        job_now = {run: job for run, job, _, _ in run_ranks}
        moved = {old for run, old in previous_jobs.items() if old != job_now[run]}
        if moved:
            self.recompute_current_runs(sorted(moved))

    def ensure_namespaces(self, names: set[str], now: datetime) -> dict[str, int]:
        ids = {name: self.known.namespaces[name] for name in names if name in self.known.namespaces}
        unknown = sorted(names - ids.keys())
        if not unknown:
            return ids
        self.write(
            namespaces_t,
            [{"name": name, "created_at": now} for name in unknown],
            _do_nothing_on("name"),
        )
        for chunk in _chunks(unknown):
            query = select(namespaces_t.c.name, namespaces_t.c.id).where(
                namespaces_t.c.name.in_(chunk)
            )
            found = dict(self.conn.execute(query).all())
            ids.update(found)
            self.learned.namespaces.update(found)
        return ids

    def lookup_ids(
        self, table: Table, columns: tuple[str, str], keys: Sequence[tuple[int, str]]
    ) -> dict[tuple[int, str], int]:
        """``id`` of each row whose two ``columns`` equal a key. On PostgreSQL one join against
        ``unnest`` of two arrays; elsewhere chunked row-value ``IN`` lists."""
        first, second = table.c[columns[0]], table.c[columns[1]]
        found: dict[tuple[int, str], int] = {}
        if self.dialect == "postgresql":
            keyset = (
                func.unnest(
                    bindparam("k1", [k[0] for k in keys], type_=postgresql.ARRAY(BigInteger)),
                    bindparam("k2", [k[1] for k in keys], type_=postgresql.ARRAY(Text)),
                )
                .table_valued("a", "b")
                .render_derived()
            )
            query = select(first, second, table.c.id).join(
                keyset, and_(first == keyset.c.a, second == keyset.c.b)
            )
            return {(a, b): id_ for a, b, id_ in self.conn.execute(query)}
        for chunk in _chunks(keys):
            query = select(first, second, table.c.id).where(tuple_(first, second).in_(chunk))
            found.update({(a, b): id_ for a, b, id_ in self.conn.execute(query)})
        return found

    def upsert_datasets(self, fold: BatchFold, ns_ids: dict[str, int]) -> dict[DatasetKey, int]:
        """Insert new datasets, move ``updated_at`` of written ones; ids of all of them."""
        written: list[dict[str, Any]] = []
        unknown: list[dict[str, Any]] = []
        for (namespace, name), touch in sorted(fold.datasets.items()):
            row = {
                "namespace_id": ns_ids[namespace],
                "name": name,
                "kind": "dataset",
                "created_at": touch.created_at,
                "updated_at": touch.written_at or touch.created_at,
            }
            if touch.written_at:
                written.append(row)
            elif (row["namespace_id"], name) not in self.known.datasets:
                unknown.append(row)
        if unknown:
            self.write(
                datasets_t,
                unknown,
                _do_nothing_on("namespace_id", "name"),
            )
        if written:
            self.write(datasets_t, written, _touch_updated_at(datasets_t))
        keys = [(ns_ids[ns], name) for ns, name in fold.datasets]
        return {
            (ns, name): id_
            for (ns, name), id_ in zip(fold.datasets, self._ids(datasets_t, keys), strict=True)
        }

    def _ids(self, table: Table, keys: list[tuple[int, str]]) -> list[int]:
        """Ids of (namespace_id, name) ``keys`` of ``table`` (datasets or jobs), via the cache."""
        known = self.known.datasets if table is datasets_t else self.known.jobs
        learned = self.learned.datasets if table is datasets_t else self.learned.jobs
        missing = [key for key in keys if key not in known]
        if missing:
            learned.update(self.lookup_ids(table, ("namespace_id", "name"), missing))
        return [known.get(key) or learned[key] for key in keys]

    def upsert_jobs(self, fold: BatchFold, ns_ids: dict[str, int]) -> dict[JobKey, int]:
        if not fold.jobs:
            return {}
        rows = [
            {
                "namespace_id": ns_ids[namespace],
                "name": name,
                "created_at": touch.created_at,
                "updated_at": touch.updated_at,
            }
            for (namespace, name), touch in sorted(fold.jobs.items())
        ]
        self.write(jobs_t, rows, _touch_updated_at(jobs_t))
        keys = [(ns_ids[ns], name) for ns, name in fold.jobs]
        return {
            (ns, name): id_
            for (ns, name), id_ in zip(fold.jobs, self._ids(jobs_t, keys), strict=True)
        }

    def _upsert_facets(
        self,
        table: Table,
        owner_column: str,
        rows: list[dict[str, Any]],
    ) -> list[tuple[Any, str]]:
        """Latest ``(event_time, event_hash)`` wins; returns the (owner, key) pairs whose *content*
        changed (what derived tables, kinds and job types depend on).

        Two statements: new or changed facets are written whole; a newer event that repeats the
        stored content (a dataset's schema on every run) only moves the stamp, which rewrites no
        JSON and triggers no derived work.
        """
        if not rows:
            return []
        content_changes = _facet_content_changes(table, owner_column)
        changed = [(row[0], row[1]) for row in self.write(table, rows, content_changes)]
        moved = set(changed)
        stamps = [
            {
                "owner": r[owner_column],
                "key": r["key"],
                "event_time": r["event_time"],
                "event_hash": r["event_hash"],
            }
            for r in rows
            if (r[owner_column], r["key"]) not in moved
        ]
        if stamps:
            stamp_only = _facet_stamp_only(table, owner_column)
            self.execute_from(_FACET_SOURCES[table.name], stamps, stamp_only)
        return changed

    def upsert_dataset_facets(self, fold: BatchFold, dataset_ids: dict[DatasetKey, int]) -> None:
        values: dict[tuple[int, str], FacetValue] = {
            (dataset_ids[(ns, name)], key): value
            for (ns, name, key), value in fold.dataset_facets.items()
        }
        rows = [
            {"dataset_id": ds, "key": key, **_stamp(v.stamp), "facet": v.facet}
            for (ds, key), v in sorted(values.items())
        ]
        changed = self._upsert_facets(dataset_facets_t, "dataset_id", rows)
        derived: dict[str, list[tuple[int, dict[str, Any] | None]]] = {}
        for dataset_id, key in changed:
            derived.setdefault(key, []).append((dataset_id, values[(dataset_id, key)].facet))
        if "columnLineage" in derived:
            self.replace_column_lineage(derived["columnLineage"], dataset_ids)
        if "tags" in derived:
            self.replace_tags(derived["tags"])
        if "symlinks" in derived:
            self.replace_symlinks(derived["symlinks"])
        kind_changed = {
            ds for key, items in derived.items() if key in KIND_FACETS for ds, _ in items
        }
        if kind_changed:
            self.recompute_kinds(sorted(kind_changed))

    def replace_column_lineage(
        self,
        items: list[tuple[int, dict[str, Any] | None]],
        dataset_ids: dict[DatasetKey, int],
    ) -> None:
        ids = [dataset_id for dataset_id, _ in items]
        for chunk in _chunks(ids):
            self.conn.execute(
                delete(column_lineage_t).where(column_lineage_t.c.dataset_id.in_(chunk))
            )
        rows: dict[tuple[int, str, int, str], dict[str, Any]] = {}
        for dataset_id, facet in items:
            for ns, name, in_field, out_field, transformations in column_lineage_inputs(
                facet or {}
            ):
                input_id = dataset_ids[(ns, name)]
                rows[(dataset_id, out_field, input_id, in_field)] = {
                    "dataset_id": dataset_id,
                    "field": out_field,
                    "input_dataset_id": input_id,
                    "input_field": in_field,
                    "transformations": transformations,
                }
        if rows:
            self.write(column_lineage_t, list(rows.values()))

    def replace_tags(self, items: list[tuple[int, dict[str, Any] | None]]) -> None:
        ids = [dataset_id for dataset_id, _ in items]
        for chunk in _chunks(ids):
            self.conn.execute(delete(tags_t).where(tags_t.c.dataset_id.in_(chunk)))
        rows: dict[tuple[int, str, str, str], dict[str, Any]] = {}
        for dataset_id, facet in items:
            for tag in (facet or {}).get("tags") or []:
                key = (dataset_id, str(tag.get("field") or ""), str(tag["key"]), str(tag["value"]))
                rows[key] = {
                    "dataset_id": key[0],
                    "field": key[1],
                    "key": key[2],
                    "value": key[3],
                    "source": tag.get("source"),
                }
        if rows:
            self.write(tags_t, list(rows.values()))

    def replace_symlinks(self, items: list[tuple[int, dict[str, Any] | None]]) -> None:
        ids = [dataset_id for dataset_id, _ in items]
        for chunk in _chunks(ids):
            self.conn.execute(delete(symlinks_t).where(symlinks_t.c.dataset_id.in_(chunk)))
        rows: dict[tuple[int, str, str], dict[str, Any]] = {}
        for dataset_id, facet in items:
            for ident in (facet or {}).get("identifiers") or []:
                key = (dataset_id, str(ident["namespace"]), str(ident["name"]))
                rows[key] = {
                    "dataset_id": dataset_id,
                    "namespace": key[1],
                    "name": key[2],
                    "type": ident.get("type"),
                }
        if rows:
            self.write(symlinks_t, list(rows.values()))

    def recompute_kinds(self, dataset_ids: list[int]) -> None:
        facets: dict[int, dict[str, dict[str, Any]]] = {ds: {} for ds in dataset_ids}
        for chunk in _chunks(dataset_ids):
            query = select(
                dataset_facets_t.c.dataset_id, dataset_facets_t.c.key, dataset_facets_t.c.facet
            ).where(
                dataset_facets_t.c.dataset_id.in_(chunk),
                dataset_facets_t.c.key.in_(sorted(KIND_FACETS)),
                dataset_facets_t.c.facet.is_not(None),
            )
            for dataset_id, key, facet in self.conn.execute(query):
                facets[dataset_id][key] = facet
        updates = [{"b_id": ds, "b_kind": dataset_kind(f)} for ds, f in facets.items()]
        self.conn.execute(
            update(datasets_t).where(datasets_t.c.id == _bind("b_id")).values(kind=_bind("b_kind")),
            updates,
        )

    def upsert_versions(
        self, fold: BatchFold, dataset_ids: dict[DatasetKey, int]
    ) -> dict[tuple[int, str], int]:
        if not fold.versions:
            return {}
        rows = [
            {
                "dataset_id": dataset_ids[(ns, name)],
                "version": version,
                "created_at": v.created_at,
                "run_uuid": v.run_uuid,
                "facets": v.facets,
                **_stamp(v.stamp),
            }
            for (ns, name, version), v in sorted(fold.versions.items())
        ]

        written = self.write(versions_t, rows, _producer_then_latest)
        return {(dataset_id, version): id_ for dataset_id, version, id_ in written}

    def upsert_job_facets(self, fold: BatchFold, job_ids: dict[JobKey, int]) -> None:
        values = {(job_ids[(ns, name)], key): v for (ns, name, key), v in fold.job_facets.items()}
        rows = [
            {"job_id": job, "key": key, **_stamp(v.stamp), "facet": v.facet}
            for (job, key), v in sorted(values.items())
        ]
        changed = self._upsert_facets(job_facets_t, "job_id", rows)
        job_types = [
            {"b_id": job, "b_type": _job_type(values[(job, key)].facet)}
            for job, key in changed
            if key == "jobType"
        ]
        if job_types:
            self.conn.execute(
                update(jobs_t).where(jobs_t.c.id == _bind("b_id")).values(job_type=_bind("b_type")),
                job_types,
            )

    def run_jobs(self, run_uuids: list[str]) -> dict[str, int]:
        """The job each already-stored run belongs to."""
        found: dict[str, int] = {}
        for chunk in _chunks(run_uuids):
            query = select(runs_t.c.uuid, runs_t.c.job_id).where(runs_t.c.uuid.in_(chunk))
            found.update(dict(self.conn.execute(query).all()))
        return found

    def upsert_runs(
        self, fold: BatchFold, job_ids: dict[JobKey, int], now: datetime
    ) -> list[tuple[str, int, bool, datetime]]:
        """Upsert runs; returns (run, job, completed, rank time) as stored after the upsert."""
        if not fold.runs:
            return []
        rows = []
        for run_uuid, run in sorted(fold.runs.items()):
            rows.append(
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
            )
        ranks = []
        for run_uuid, job_id, state, ended_at, last_event_time in self.write(
            runs_t, rows, _merge_run
        ):
            completed = state == "COMPLETE"
            ranks.append((run_uuid, job_id, completed, ended_at if completed else last_event_time))
        return ranks

    def upsert_run_facets(self, fold: BatchFold) -> None:
        rows = [
            {"run_uuid": run, "key": key, **_stamp(v.stamp), "facet": v.facet}
            for (run, key), v in sorted(fold.run_facets.items())
        ]
        changed = self._upsert_facets(run_facets_t, "run_uuid", rows)
        parents = []
        for run, key in changed:
            if key == "parent":
                parent = fold.run_facets[(run, key)].facet or {}
                job = parent.get("job") or {}
                parents.append(
                    {
                        "b_run": run,
                        "b_parent": normalise_run_id(str(parent["run"]["runId"]))
                        if parent
                        else None,
                        "b_ns": job.get("namespace"),
                        "b_name": job.get("name"),
                    }
                )
        if parents:
            self.conn.execute(
                update(runs_t)
                .where(runs_t.c.uuid == _bind("b_run"))
                .values(
                    parent_run_uuid=_bind("b_parent"),
                    parent_job_namespace=_bind("b_ns"),
                    parent_job_name=_bind("b_name"),
                ),
                parents,
            )

    def upsert_run_io(
        self,
        fold: BatchFold,
        dataset_ids: dict[DatasetKey, int],
        version_ids: dict[tuple[int, str], int],
    ) -> None:
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
                    **_stamp(io.stamp),
                    "facets": io.facets,
                }
            )
        self.write(run_io_t, rows, _merge_run_io)

    def insert_static_io(
        self, fold: BatchFold, job_ids: dict[JobKey, int], dataset_ids: dict[DatasetKey, int]
    ) -> None:
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
        self.write(static_io_t, rows, _do_nothing_on())

    def update_current_runs(
        self,
        ranks: list[tuple[str, int, bool, datetime]],
        fold: BatchFold,
        job_ids: dict[JobKey, int],
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
            self.execute_from(_CURRENT_RUNS, rows, _advance_current_run)
        static_jobs = {job_ids[(ns, name)] for ns, name, _, _, _ in fold.static_io}
        candidates = sorted(set(best) | static_jobs)
        rebuild_from_runs: dict[int, str] = {}
        rebuild_static: list[int] = []
        for chunk in _chunks(candidates):
            query = select(jobs_t.c.id, jobs_t.c.current_run_uuid).where(jobs_t.c.id.in_(chunk))
            for job_id, current in self.conn.execute(query):
                if current is None:
                    rebuild_static.append(job_id)
                elif current in fold.runs:  # the current run changed or gained edges
                    rebuild_from_runs[job_id] = current
        self.rebuild_edges(rebuild_from_runs, rebuild_static)

    def recompute_current_runs(self, job_ids: list[int]) -> None:
        """Pick each job's current run from scratch (for jobs that lost a run to another job)."""
        completed = runs_t.c.state == "COMPLETE"
        rank_time = _case(completed, runs_t.c.ended_at, runs_t.c.last_event_time)
        from_runs: dict[int, str] = {}
        for job_id in job_ids:
            best = self.conn.execute(
                select(runs_t.c.uuid, completed, rank_time)
                .where(runs_t.c.job_id == job_id)
                .order_by(completed.desc(), rank_time.desc(), runs_t.c.uuid.desc())
                .limit(1)
            ).first()
            self.conn.execute(
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
        self.rebuild_edges(from_runs, [j for j in job_ids if j not in from_runs])

    def rebuild_edges(self, from_runs: dict[int, str], static: list[int]) -> None:
        jobs = sorted(set(from_runs) | set(static))
        for chunk in _chunks(jobs):
            self.conn.execute(delete(job_edges_t).where(job_edges_t.c.job_id.in_(chunk)))
        if from_runs:
            rows = [{"job": job, "run": run} for job, run in sorted(from_runs.items())]
            self.execute_from(_JOB_RUNS, rows, _edges_of_runs)
        for chunk in _chunks(static):
            source = select(
                static_io_t.c.job_id, static_io_t.c.direction, static_io_t.c.dataset_id
            ).where(static_io_t.c.job_id.in_(chunk))
            self.conn.execute(
                job_edges_t.insert().from_select(["job_id", "direction", "dataset_id"], source)
            )


#: Adds ``ON CONFLICT``/``RETURNING`` to a plain ``INSERT``; ``None`` adds nothing. Statements
#: are cached per clause, so clauses must be module-level functions or cached factories.
Clause = Callable[[postgresql.Insert], Executable] | None


@cache
def _sqlite_insert(table: Table, clause: Clause) -> Executable:
    statement = cast(postgresql.Insert, sqlite.insert(table))
    return clause(statement) if clause else statement


@cache
def _recordset_insert(table: Table, columns: tuple[str, ...], clause: Clause) -> Executable:
    """``INSERT INTO table (columns) SELECT columns FROM jsonb_to_recordset(:rows)`` + clause."""
    source = _recordset(table, columns)
    statement = postgresql.insert(table).from_select(columns, select(*source.c))
    return clause(statement) if clause else statement


@cache
def _bound_statement(source: Table, build: Callable[[Any], Executable]) -> Executable:
    return build(_BindSource(source))


@cache
def _recordset_statement(
    source: Table, columns: tuple[str, ...], build: Callable[[Any], Executable]
) -> Executable:
    return build(_recordset(source, columns).c)


def _claim_digests(stmt: postgresql.Insert) -> Executable:
    return stmt.on_conflict_do_nothing(index_elements=["event_hash"]).returning(
        digests_t.c.event_hash
    )


@cache
def _do_nothing_on(*index_elements: str) -> Clause:
    """``ON CONFLICT (index_elements) DO NOTHING`` (any conflict when none are named)."""

    def clause(stmt: postgresql.Insert) -> Executable:
        return stmt.on_conflict_do_nothing(index_elements=list(index_elements) or None)

    return clause


@cache
def _facet_content_changes(table: Table, owner_column: str) -> Clause:
    """Upsert a facet row when it is newer *and* its content differs; returns (owner, key)."""

    def clause(stmt: postgresql.Insert) -> Executable:
        new, old = stmt.excluded, table.c
        return stmt.on_conflict_do_update(
            index_elements=[owner_column, "key"],
            set_={"event_time": new.event_time, "event_hash": new.event_hash, "facet": new.facet},
            where=and_(_newer(new, old), old.facet.is_distinct_from(new.facet)),
        ).returning(old[owner_column], old.key)

    return clause


@cache
def _facet_stamp_only(table: Table, owner_column: str) -> Callable[[Any], Executable]:
    """Move a facet row's stamp forward (same content seen in a newer event)."""

    def build(source: Any) -> Executable:
        old = table.c
        return (
            update(table)
            .where(old[owner_column] == source.owner, old.key == source.key, _newer(source, old))
            .values(event_time=source.event_time, event_hash=source.event_hash)
        )

    return build


@cache
def _recordset(table: Table, columns: tuple[str, ...]) -> Any:
    """``jsonb_to_recordset(:rows) AS r(column type, ...)`` shaped like ``columns`` of ``table``;
    one object per shape, so SQLAlchemy's statement cache hits."""
    return (
        func.jsonb_to_recordset(bindparam("rows", type_=postgresql.JSONB))
        .table_valued(*(Column(c, table.c[c].type) for c in columns))
        .render_derived(name="r", with_types=True)
    )


def _rows_json(rows: list[dict[str, Any]]) -> PreSerialized:
    """``rows`` as one JSON array for ``_recordset``: bytes as bytea hex text, JSON already
    serialised (``PreSerialized``) embedded as is, datetimes as RFC 3339 (naive ones as UTC)."""
    return PreSerialized(
        orjson.dumps(
            rows,
            default=_json_default,
            option=orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_NAIVE_UTC,
        ).decode()
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, PreSerialized):
        return orjson.Fragment(str.__str__(value))
    if isinstance(value, str):
        return str.__str__(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


class _BindSource:
    """Stands in for a staged ``source`` table: ``.x`` is the typed bind parameter ``b_x``."""

    def __init__(self, source: Table) -> None:
        self._source = source

    def __getattr__(self, name: str) -> Any:
        return bindparam(f"b_{name}", type_=self._source.c[name].type)


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


def _facet_stamps(name: str, owner_type: Any) -> Table:
    return Table(
        name,
        MetaData(),
        Column("owner", owner_type),
        Column("key", Text),
        Column("event_time", UTCDateTime()),
        Column("event_hash", LargeBinary(32)),
    )


#: Stamp-only updates of each facet table (see ``_Writer._upsert_facets``).
_FACET_SOURCES = {
    "dataset_facets": _facet_stamps("dataset_facet_stamps", BigInteger),
    "job_facets": _facet_stamps("job_facet_stamps", BigInteger),
    "run_facets": _facet_stamps("run_facet_stamps", Text),
}


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


@cache
def _touch_updated_at(table: Table) -> Clause:
    """Upsert that only moves ``updated_at`` forward."""

    def clause(stmt: postgresql.Insert) -> Executable:
        return stmt.on_conflict_do_update(
            index_elements=["namespace_id", "name"],
            set_={"updated_at": stmt.excluded.updated_at},
            where=stmt.excluded.updated_at > table.c.updated_at,
        )

    return clause


def _producer_then_latest(stmt: postgresql.Insert) -> Executable:
    """Upsert a dataset version; returns (dataset_id, version, id) of every row given."""
    new, old = stmt.excluded, versions_t.c
    # The producer's report outranks a reader's sighting; then the latest event wins.
    outranks = or_(
        and_(new.run_uuid.is_not(None), old.run_uuid.is_(None)),
        and_(new.run_uuid.is_(None) == old.run_uuid.is_(None), _newer(new, old)),
    )
    return stmt.on_conflict_do_update(
        index_elements=["dataset_id", "version"],
        set_={
            "created_at": _least(new.created_at, old.created_at),
            "run_uuid": _case(outranks, new.run_uuid, old.run_uuid),
            "facets": _case(outranks, new.facets, old.facets),
            "event_time": _case(outranks, new.event_time, old.event_time),
            "event_hash": _case(outranks, new.event_hash, old.event_hash),
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
            "job_id": _case(earlier, new.job_id, old.job_id),
            "state": _case(wins, new.state, old.state),
            "state_time": _case(wins, new.state_time, old.state_time),
            "state_terminal": _case(wins, new.state_terminal, old.state_terminal),
            "state_hash": _case(wins, new.state_hash, old.state_hash),
            "ended_at": _case(wins, new.ended_at, old.ended_at),
            "started_at": _least(new.started_at, old.started_at),
            "first_event_time": _least(new.first_event_time, old.first_event_time),
            "last_event_time": _greatest(new.last_event_time, old.last_event_time),
        },
    ).returning(old.uuid, old.job_id, old.state, old.ended_at, old.last_event_time)


def _merge_run_io(stmt: postgresql.Insert) -> Executable:
    """Same merge as ``RunIOFold.merge``: latest event's facets, latest named version."""
    new, old = stmt.excluded, run_io_t.c
    newer = _newer(new, old)
    takes_version = and_(new.version_id.is_not(None), or_(old.version_id.is_(None), newer))
    return stmt.on_conflict_do_update(
        index_elements=["run_uuid", "direction", "dataset_id"],
        set_={
            "version_id": _case(takes_version, new.version_id, old.version_id),
            "event_time": _case(newer, new.event_time, old.event_time),
            "event_hash": _case(newer, new.event_hash, old.event_hash),
            "facets": _case(and_(newer, new.facets.is_not(None)), new.facets, old.facets),
        },
    )


def _event_row(parsed: ParsedEvent, received_at: datetime) -> dict[str, Any]:
    event = parsed.event
    job = getattr(event, "job", None)
    run = getattr(event, "run", None)
    return {
        "event_hash": parsed.digest,
        "kind": parsed.kind,
        "event_type": parsed.event_type,
        "event_time": parsed.event_time,
        "received_at": received_at,
        "run_uuid": normalise_run_id(run.runId) if run is not None else None,
        "job_namespace": job.namespace if job is not None else None,
        "job_name": job.name if job is not None else None,
        "producer": event.producer,
        "payload": PreSerialized(parsed.canonical.decode()),
        "warnings": [{"loc": w.loc, "msg": w.msg} for w in parsed.warnings] or None,
    }


def _stamp(stamp: tuple[datetime, bytes]) -> dict[str, Any]:
    return {"event_time": stamp[0], "event_hash": stamp[1]}


def _newer(new: Any, old: Any) -> Any:
    """``(event_time, event_hash)`` of ``new`` is greater: the arrival-order-free "latest"."""
    return tuple_(new.event_time, new.event_hash) > tuple_(old.event_time, old.event_hash)


def _job_type(facet: dict[str, Any] | None) -> str | None:
    value = (facet or {}).get("jobType")
    return str(value) if value is not None else None


def _bind(name: str, type_: Any = None) -> Any:
    return bindparam(name, type_=type_)


def _case(condition: ColumnElement[bool], then: Any, otherwise: Any) -> Any:
    return case((condition, then), else_=otherwise)


def _least(new: Any, old: Any) -> Any:
    """The smaller of two nullable values (NULL loses), the same on PostgreSQL and SQLite."""
    return _case(and_(new.is_not(None), or_(old.is_(None), new < old)), new, old)


def _greatest(new: Any, old: Any) -> Any:
    """The larger of two nullable values (NULL loses)."""
    return _case(and_(new.is_not(None), or_(old.is_(None), new > old)), new, old)
