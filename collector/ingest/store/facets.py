"""Facets of datasets, jobs and runs, and the tables derived from their content.

Contracts: per (owner, key) the facet of the latest ``(event_time, event_hash)`` wins; a
retraction (``_deleted``) wins the same way and is stored as NULL. Only a change of *content*
triggers derived work: column lineage, tags, symlinks and the dataset kind (from dataset facets),
the job type (``jobType``), the parent run (``parent``). Derived rows of an owner are replaced
whole, so they always equal what the owner's current facet implies.

Bodies are stored once per distinct content (``facet_contents``, ``db/facet_bodies.py``): every
row refers to its body by digest, and the bodies of a batch's winning facets are inserted first
(``store_bodies``), whether or not their row then changes, exactly as the SQL program does.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Executable,
    LargeBinary,
    MetaData,
    Table,
    Text,
    and_,
    delete,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from mllineage.collector.db.facet_bodies import body_of, facet_digest
from mllineage.collector.db.tables import (
    column_lineage_t,
    dataset_facets_t,
    datasets_t,
    facet_contents_t,
    job_facets_t,
    jobs_t,
    run_facets_t,
    runs_t,
    symlinks_t,
    tags_t,
)
from mllineage.collector.db.types import UTCDateTime
from mllineage.collector.ingest.dataset_tags import TAG_FACETS, dataset_tags
from mllineage.collector.ingest.fold import (
    KIND_FACETS,
    BatchFold,
    DatasetKey,
    FacetValue,
    JobKey,
    column_lineage_inputs,
    dataset_kind,
)
from mllineage.collector.ingest.store.context import StoreContext
from mllineage.collector.ingest.store.dialect import (
    Clause,
    SourceStatement,
    bind,
    chunks,
    do_nothing_on,
    newer,
    stamp_columns,
)
from mllineage.schemas.node_ids import normalise_run_id

DerivedItems = list[tuple[int, dict[str, Any] | None]]


#: Digest of each facet body of a batch, by ``id()`` of the body object (``store_bodies``).
Digests = dict[int, bytes]


def store_bodies(ctx: StoreContext, fold: BatchFold) -> Digests:
    """Insert the bodies of every facet ``fold`` holds that are not stored yet; their digests.

    One statement in digest order: concurrent projectors wait on each other's new bodies in the
    same order, so they cannot deadlock on them.
    """
    bodies = [v.facet for v in fold.dataset_facets.values() if v.facet is not None]
    bodies += [b for v in fold.versions.values() for b in v.facets.values()]
    bodies += [v.facet for v in fold.job_facets.values() if v.facet is not None]
    bodies += [v.facet for v in fold.run_facets.values() if v.facet is not None]
    digests = {id(b): facet_digest(b) for b in bodies}
    unique = {digests[id(b)]: b for b in bodies}
    rows = [{"digest": d, "body": unique[d]} for d in sorted(unique)]
    if rows:
        ctx.rows.write(facet_contents_t, rows, do_nothing_on("digest"))
    return digests


def _facet_rows(
    owner_column: str, values: list[tuple[Any, str, FacetValue]], digests: Digests
) -> list[dict[str, Any]]:
    """Facet table rows of ``values`` (owner, key, value), bodies by digest."""
    return [
        {
            owner_column: owner,
            "key": key,
            **stamp_columns(v.stamp),
            "facet_digest": None if v.facet is None else digests[id(v.facet)],
        }
        for owner, key, v in values
    ]


def upsert_facets(
    ctx: StoreContext, table: Table, owner_column: str, rows: list[dict[str, Any]]
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
    changed = [(row[0], row[1]) for row in ctx.rows.write(table, rows, content_changes)]
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
        ctx.rows.execute_from(_FACET_SOURCES[table.name], stamps, stamp_only)
    return changed


def upsert_dataset_facets(
    ctx: StoreContext, fold: BatchFold, dataset_ids: dict[DatasetKey, int], digests: Digests
) -> None:
    """Dataset facets, then whatever their changed content derives."""
    values: dict[tuple[int, str], FacetValue] = {
        (dataset_ids[(ns, name)], key): value
        for (ns, name, key), value in fold.dataset_facets.items()
    }
    rows = _facet_rows("dataset_id", [(ds, k, v) for (ds, k), v in sorted(values.items())], digests)
    changed = upsert_facets(ctx, dataset_facets_t, "dataset_id", rows)
    derived: dict[str, DerivedItems] = {}
    for dataset_id, key in changed:
        derived.setdefault(key, []).append((dataset_id, values[(dataset_id, key)].facet))
    if "columnLineage" in derived:
        replace_column_lineage(ctx, derived["columnLineage"], dataset_ids)
    tags_changed = {ds for key, items in derived.items() if key in TAG_FACETS for ds, _ in items}
    if tags_changed:
        recompute_tags(ctx, sorted(tags_changed))
    if "symlinks" in derived:
        replace_symlinks(ctx, derived["symlinks"])
    kind_changed = {ds for key, items in derived.items() if key in KIND_FACETS for ds, _ in items}
    if kind_changed:
        recompute_kinds(ctx, sorted(kind_changed))


def replace_column_lineage(
    ctx: StoreContext, items: DerivedItems, dataset_ids: dict[DatasetKey, int]
) -> None:
    ids = [dataset_id for dataset_id, _ in items]
    for chunk in chunks(ids):
        ctx.conn.execute(delete(column_lineage_t).where(column_lineage_t.c.dataset_id.in_(chunk)))
    rows: dict[tuple[int, str, int, str], dict[str, Any]] = {}
    for dataset_id, facet in items:
        for ns, name, in_field, out_field, transformations in column_lineage_inputs(facet or {}):
            input_id = dataset_ids[(ns, name)]
            rows[(dataset_id, out_field, input_id, in_field)] = {
                "dataset_id": dataset_id,
                "field": out_field,
                "input_dataset_id": input_id,
                "input_field": in_field,
                "transformations": transformations,
            }
    if rows:
        ctx.rows.write(column_lineage_t, list(rows.values()))


def recompute_tags(ctx: StoreContext, dataset_ids: list[int]) -> None:
    """A dataset's tag rows from its current tag-bearing facets (``ingest/dataset_tags.py``)."""
    facets: dict[int, dict[str, dict[str, Any]]] = {ds: {} for ds in dataset_ids}
    for chunk in chunks(dataset_ids):
        ctx.conn.execute(delete(tags_t).where(tags_t.c.dataset_id.in_(chunk)))
        query = select(
            dataset_facets_t.c.dataset_id,
            dataset_facets_t.c.key,
            body_of(dataset_facets_t.c.facet_digest),
        ).where(
            dataset_facets_t.c.dataset_id.in_(chunk),
            dataset_facets_t.c.key.in_(sorted(TAG_FACETS)),
            dataset_facets_t.c.facet_digest.is_not(None),
        )
        for dataset_id, key, facet in ctx.conn.execute(query):
            facets[dataset_id][key] = facet
    rows = [
        {"dataset_id": ds, **tag._asdict()} for ds, f in facets.items() for tag in dataset_tags(f)
    ]
    if rows:
        ctx.rows.write(tags_t, rows)


def replace_symlinks(ctx: StoreContext, items: DerivedItems) -> None:
    ids = [dataset_id for dataset_id, _ in items]
    for chunk in chunks(ids):
        ctx.conn.execute(delete(symlinks_t).where(symlinks_t.c.dataset_id.in_(chunk)))
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
        ctx.rows.write(symlinks_t, list(rows.values()))


def recompute_kinds(ctx: StoreContext, dataset_ids: list[int]) -> None:
    """A dataset's kind from its current kind-deciding facets."""
    facets: dict[int, dict[str, dict[str, Any]]] = {ds: {} for ds in dataset_ids}
    for chunk in chunks(dataset_ids):
        query = select(
            dataset_facets_t.c.dataset_id,
            dataset_facets_t.c.key,
            body_of(dataset_facets_t.c.facet_digest),
        ).where(
            dataset_facets_t.c.dataset_id.in_(chunk),
            dataset_facets_t.c.key.in_(sorted(KIND_FACETS)),
            dataset_facets_t.c.facet_digest.is_not(None),
        )
        for dataset_id, key, facet in ctx.conn.execute(query):
            facets[dataset_id][key] = facet
    updates = [{"b_id": ds, "b_kind": dataset_kind(f)} for ds, f in facets.items()]
    ctx.conn.execute(
        update(datasets_t).where(datasets_t.c.id == bind("b_id")).values(kind=bind("b_kind")),
        updates,
    )


def upsert_job_facets(
    ctx: StoreContext, fold: BatchFold, job_ids: dict[JobKey, int], digests: Digests
) -> None:
    """Job facets; a changed ``jobType`` facet sets the job's ``job_type``."""
    values = {(job_ids[(ns, name)], key): v for (ns, name, key), v in fold.job_facets.items()}
    rows = _facet_rows("job_id", [(job, k, v) for (job, k), v in sorted(values.items())], digests)
    changed = upsert_facets(ctx, job_facets_t, "job_id", rows)
    job_types = [
        {"b_id": job, "b_type": _job_type(values[(job, key)].facet)}
        for job, key in changed
        if key == "jobType"
    ]
    if job_types:
        ctx.conn.execute(
            update(jobs_t).where(jobs_t.c.id == bind("b_id")).values(job_type=bind("b_type")),
            job_types,
        )


def upsert_run_facets(ctx: StoreContext, fold: BatchFold, digests: Digests) -> None:
    """Run facets; a changed ``parent`` facet sets the run's parent columns."""
    values = [(run, k, v) for (run, k), v in sorted(fold.run_facets.items())]
    rows = _facet_rows("run_uuid", values, digests)
    changed = upsert_facets(ctx, run_facets_t, "run_uuid", rows)
    parents = []
    for run, key in changed:
        if key == "parent":
            parent = fold.run_facets[(run, key)].facet or {}
            job = parent.get("job") or {}
            parents.append(
                {
                    "b_run": run,
                    "b_parent": normalise_run_id(str(parent["run"]["runId"])) if parent else None,
                    "b_ns": job.get("namespace"),
                    "b_name": job.get("name"),
                }
            )
    if parents:
        ctx.conn.execute(
            update(runs_t)
            .where(runs_t.c.uuid == bind("b_run"))
            .values(
                parent_run_uuid=bind("b_parent"),
                parent_job_namespace=bind("b_ns"),
                parent_job_name=bind("b_name"),
            ),
            parents,
        )


def _job_type(facet: dict[str, Any] | None) -> str | None:
    value = (facet or {}).get("jobType")
    return str(value) if value is not None else None


@cache
def _facet_content_changes(table: Table, owner_column: str) -> Clause:
    """Upsert a facet row when it is newer *and* its content differs; returns (owner, key)."""

    def clause(stmt: postgresql.Insert) -> Executable:
        new, old = stmt.excluded, table.c
        return stmt.on_conflict_do_update(
            index_elements=[owner_column, "key"],
            set_={
                "event_time": new.event_time,
                "event_hash": new.event_hash,
                "facet_digest": new.facet_digest,
            },
            where=and_(newer(new, old), old.facet_digest.is_distinct_from(new.facet_digest)),
        ).returning(old[owner_column], old.key)

    return clause


@cache
def _facet_stamp_only(table: Table, owner_column: str) -> SourceStatement:
    """Move a facet row's stamp forward (same content seen in a newer event)."""

    def build(source: Any) -> Executable:
        old = table.c
        return (
            update(table)
            .where(old[owner_column] == source.owner, old.key == source.key, newer(source, old))
            .values(event_time=source.event_time, event_hash=source.event_hash)
        )

    return build


def _facet_stamps(name: str, owner_type: Any) -> Table:
    return Table(
        name,
        MetaData(),
        Column("owner", owner_type),
        Column("key", Text),
        Column("event_time", UTCDateTime()),
        Column("event_hash", LargeBinary(32)),
    )


#: Stamp-only updates of each facet table (see ``upsert_facets``).
_FACET_SOURCES = {
    "dataset_facets": _facet_stamps("dataset_facet_stamps", BigInteger),
    "job_facets": _facet_stamps("job_facet_stamps", BigInteger),
    "run_facets": _facet_stamps("run_facet_stamps", Text),
}
