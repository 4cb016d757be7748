"""Batch loaders for what answers show about nodes: names, kinds, facets, owners, runs, versions.

Every loader takes a set of ids and runs a fixed number of statements whatever its size, so an
answer about N nodes costs O(1) queries, not O(N).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, func, select
from sqlalchemy.sql import ColumnElement

from mllineage.collector.db.facet_bodies import body, fetch_bodies, resolve_maps
from mllineage.collector.db.tables import (
    dataset_facets_t,
    datasets_t,
    facet_contents_t,
    job_facets_t,
    jobs_t,
    namespaces_t,
    run_facets_t,
    run_io_t,
    runs_t,
    versions_t,
)
from mllineage.collector.queries.membership import fetch_in

Facets = dict[str, dict[str, Any]]
KIND_SCAN_IDS = 5_000


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    id: int
    namespace: str
    name: str
    kind: str
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class DatasetLabel:
    """What an answer shows about a dataset node (``owners`` only when asked for)."""

    id: int
    namespace: str
    name: str
    kind: str
    owners: list[str] = field(default_factory=list)


@dataclass(slots=True)
class JobLabel:
    """What an answer shows about a job node, and the run its current edges come from."""

    id: int
    namespace: str
    name: str
    current_run_uuid: str | None
    owners: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: int
    namespace: str
    name: str
    job_type: str | None
    created_at: datetime
    updated_at: datetime
    current_run_uuid: str | None


@dataclass(frozen=True, slots=True)
class RunInfo:
    uuid: str
    job_id: int
    state: str | None
    started_at: datetime | None
    ended_at: datetime | None
    first_event_time: datetime
    last_event_time: datetime
    created_at: datetime
    parent_run_uuid: str | None
    parent_job_name: str | None


@dataclass(frozen=True, slots=True)
class RunSummary:
    """A run as impact answers show it: ``at`` is its end, else start, else last event;
    ``recency`` orders runs (end, else last event, then uuid)."""

    uuid: str
    state: str | None
    at: datetime
    recency: tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class VersionInfo:
    id: int
    dataset_id: int
    version: str
    created_at: datetime
    run_uuid: str | None
    facets: Facets


def datasets(conn: Connection, ids: Iterable[int]) -> dict[int, DatasetInfo]:
    rows = fetch_in(
        conn,
        datasets_t.c.id,
        ids,
        lambda cond: (
            select(
                datasets_t.c.id,
                namespaces_t.c.name,
                datasets_t.c.name,
                datasets_t.c.kind,
                datasets_t.c.created_at,
                datasets_t.c.updated_at,
            )
            .join(namespaces_t, namespaces_t.c.id == datasets_t.c.namespace_id)
            .where(cond)
        ),
    )
    return {row[0]: DatasetInfo(*row) for row in rows}


def dataset_labels(
    conn: Connection, ids: Iterable[int], *, owners: bool = False
) -> dict[int, DatasetLabel]:
    """Labels by id; ``owners`` also reads each dataset's ``ownership`` facet (same statement)."""

    def build(cond: ColumnElement[bool]) -> Select[Any]:
        return _with_label(select(), datasets_t, owners).where(cond)

    rows = fetch_in(conn, datasets_t.c.id, ids, build)
    return {r[0]: _label(DatasetLabel, r, owners) for r in rows}


def version_labels(
    conn: Connection, ids: Iterable[int], *, owners: bool = False
) -> tuple[dict[int, VersionInfo], dict[int, DatasetLabel]]:
    """Versions by id (without facets) and the labels of their datasets, in one statement."""
    width = 5

    def build(cond: ColumnElement[bool]) -> Select[Any]:
        query = select(*_version_columns()[:width])
        return _with_label(query, datasets_t, owners, versions_t.c.dataset_id).where(cond)

    rows = fetch_in(conn, versions_t.c.id, ids, build)
    versions = {r[0]: _version(r[:width]) for r in rows}
    return versions, {r[width]: _label(DatasetLabel, r[width:], owners) for r in rows}


def datasets_of_kinds(
    conn: Connection, ids: Iterable[int], kinds: Iterable[str]
) -> dict[int, DatasetLabel]:
    """The labels of the datasets among ``ids`` whose kind is one of ``kinds`` (one statement:
    for more than ``KIND_SCAN_IDS`` ids, every dataset of those kinds, filtered here, which reads
    the kind index once instead of probing the primary key per id)."""
    ids = set(ids)
    if not ids:
        return {}
    of_kind = datasets_t.c.kind.in_(sorted(kinds))
    if len(ids) > KIND_SCAN_IDS:
        rows = conn.execute(_with_label(select(), datasets_t, False).where(of_kind)).all()
        return {r[0]: _label(DatasetLabel, r, False) for r in rows if r[0] in ids}
    return {
        r[0]: _label(DatasetLabel, r, False)
        for r in fetch_in(
            conn,
            datasets_t.c.id,
            ids,
            lambda cond: _with_label(select(), datasets_t, False).where(cond, of_kind),
        )
    }


def versions_of_kinds(conn: Connection, ids: Iterable[int], kinds: Iterable[str]) -> set[int]:
    """The version ids among ``ids`` whose dataset's kind is one of ``kinds`` (one statement)."""
    wanted = sorted(kinds)
    rows = fetch_in(
        conn,
        versions_t.c.id,
        ids,
        lambda cond: (
            select(versions_t.c.id)
            .join(datasets_t, datasets_t.c.id == versions_t.c.dataset_id)
            .where(cond, datasets_t.c.kind.in_(wanted))
        ),
    )
    return {row[0] for row in rows}


def job_labels(
    conn: Connection, ids: Iterable[int], *, owners: bool = False
) -> dict[int, JobLabel]:
    """Labels by id; ``owners`` also reads each job's ``ownership`` facet (same statement)."""

    def build(cond: ColumnElement[bool]) -> Select[Any]:
        return _with_label(select(), jobs_t, owners).where(cond)

    rows = fetch_in(conn, jobs_t.c.id, ids, build)
    return {r[0]: _label(JobLabel, r, owners) for r in rows}


def run_labels(
    conn: Connection, uuids: Iterable[str], *, owners: bool = False
) -> tuple[dict[str, RunInfo], dict[int, JobLabel]]:
    """Runs by uuid and the labels of their jobs, in one statement."""
    width = len(_run_columns())

    def build(cond: ColumnElement[bool]) -> Select[Any]:
        query = select(*_run_columns())
        return _with_label(query, jobs_t, owners, runs_t.c.job_id).where(cond)

    rows = fetch_in(conn, runs_t.c.uuid, uuids, build)
    runs = {r[0]: RunInfo(*r[:width]) for r in rows}
    return runs, {r[width]: _label(JobLabel, r[width:], owners) for r in rows}


def _with_label(query: Select[Any], table: Any, owners: bool, via: Any = None) -> Select[Any]:
    """``query`` plus the label columns of a dataset or job (``table``): id, namespace, name,
    then kind (datasets) or current run (jobs), then owners if asked; joined on ``via`` (an id
    column of ``table``) when given."""
    fourth = table.c.kind if table is datasets_t else table.c.current_run_uuid
    query = query.add_columns(table.c.id, namespaces_t.c.name, table.c.name, fourth)
    if owners:
        facets = dataset_facets_t.c.dataset_id if table is datasets_t else job_facets_t.c.job_id
        query = query.add_columns(_owners_of(facets, table))
    if via is not None:
        query = query.join(table, table.c.id == via)
    return query.join(namespaces_t, namespaces_t.c.id == table.c.namespace_id)


LabelT = TypeVar("LabelT", DatasetLabel, JobLabel)


def _label(kind: type[LabelT], row: Any, owners: bool) -> LabelT:
    """A label from ``_with_label``'s columns at the start of ``row``."""
    if owners:
        return kind(row[0], row[1], row[2], row[3], owner_names(row[4]))
    return kind(row[0], row[1], row[2], row[3])


def _owners_of(owner: Any, table: Any) -> Any:
    """Correlated subquery: the ``owners`` of the row's ``ownership`` facet (primary-key lookup
    per row, whatever the plan chooses for the outer query)."""
    facets = owner.table
    return (
        select(facet_contents_t.c.body["owners"])
        .select_from(facets)
        .join(facet_contents_t, facet_contents_t.c.digest == facets.c.facet_digest)
        .where(owner == table.c.id, facets.c.key == "ownership")
        .correlate(table)
        .scalar_subquery()
    )


def jobs(conn: Connection, ids: Iterable[int]) -> dict[int, JobInfo]:
    rows = fetch_in(
        conn,
        jobs_t.c.id,
        ids,
        lambda cond: (
            select(*_job_columns())
            .join(namespaces_t, namespaces_t.c.id == jobs_t.c.namespace_id)
            .where(cond)
        ),
    )
    return {row[0]: JobInfo(*row) for row in rows}


def _job_columns() -> list[Any]:
    return [
        jobs_t.c.id,
        namespaces_t.c.name,
        jobs_t.c.name,
        jobs_t.c.job_type,
        jobs_t.c.created_at,
        jobs_t.c.updated_at,
        jobs_t.c.current_run_uuid,
    ]


def _run_columns() -> list[Any]:
    return [
        runs_t.c.uuid,
        runs_t.c.job_id,
        runs_t.c.state,
        runs_t.c.started_at,
        runs_t.c.ended_at,
        runs_t.c.first_event_time,
        runs_t.c.last_event_time,
        runs_t.c.created_at,
        runs_t.c.parent_run_uuid,
        runs_t.c.parent_job_name,
    ]


def runs(conn: Connection, uuids: Iterable[str]) -> dict[str, RunInfo]:
    rows = fetch_in(conn, runs_t.c.uuid, uuids, lambda cond: select(*_run_columns()).where(cond))
    return {row[0]: RunInfo(*row) for row in rows}


def run_summaries(conn: Connection, uuids: Iterable[str]) -> dict[str, RunSummary]:
    """``RunSummary`` by uuid: three columns per run, computed by the database."""
    at = func.coalesce(runs_t.c.ended_at, runs_t.c.started_at, runs_t.c.last_event_time)
    ended = func.coalesce(runs_t.c.ended_at, runs_t.c.last_event_time)
    rows = fetch_in(
        conn,
        runs_t.c.uuid,
        uuids,
        lambda cond: select(runs_t.c.uuid, runs_t.c.state, at, ended).where(cond),
    )
    return {r[0]: RunSummary(r[0], r[1], r[2], (r[3], r[0])) for r in rows}


def summary(run: RunInfo) -> RunSummary:
    """The ``RunSummary`` of a fully loaded run."""
    at = run.ended_at or run.started_at or run.last_event_time
    return RunSummary(run.uuid, run.state, at, (run.ended_at or run.last_event_time, run.uuid))


def dataset_facets(
    conn: Connection, ids: Iterable[int], keys: Sequence[str] | None = None
) -> dict[int, Facets]:
    """Current (not retracted) facets per dataset, in key order, optionally only ``keys``."""
    return _facets(conn, dataset_facets_t, dataset_facets_t.c.dataset_id, ids, keys)


def job_facets(
    conn: Connection, ids: Iterable[int], keys: Sequence[str] | None = None
) -> dict[int, Facets]:
    return _facets(conn, job_facets_t, job_facets_t.c.job_id, ids, keys)


def run_facets(
    conn: Connection, uuids: Iterable[str], keys: Sequence[str] | None = None
) -> dict[str, Facets]:
    return _facets(conn, run_facets_t, run_facets_t.c.run_uuid, uuids, keys)


def _facets(
    conn: Connection, table: Any, owner: Any, ids: Iterable[Any], keys: Sequence[str] | None
) -> dict[Any, Facets]:
    def build(cond: ColumnElement[bool]) -> Select[Any]:
        query = select(owner, table.c.key, table.c.facet_digest).where(
            cond, table.c.facet_digest.is_not(None)
        )
        return query.where(table.c.key.in_(list(keys))) if keys is not None else query

    found: dict[Any, Facets] = {}
    rows = fetch_in(conn, owner, ids, build)
    rows.sort(key=lambda row: row[1])  # facets in key order, whatever order the plan returns
    bodies = fetch_bodies(conn, (row[2] for row in rows))
    for owner_id, key, digest in rows:
        facet = body(bodies, digest)
        if isinstance(facet, dict):
            found.setdefault(owner_id, {})[key] = facet
    return found


def owners(facets: Facets | None) -> list[str]:
    """Owner names from an ``ownership`` facet, as ``type:name`` when a type is given."""
    return owner_names(((facets or {}).get("ownership") or {}).get("owners"))


def owner_names(listed: Any) -> list[str]:
    """``owners`` of an ``ownership`` facet as ``type:name`` (``name`` when no type is given)."""
    if not isinstance(listed, list):
        return []
    result = []
    for owner in listed:
        if isinstance(owner, dict) and owner.get("name"):
            kind = owner.get("type")
            result.append(f"{kind}:{owner['name']}" if kind else str(owner["name"]))
    return result


def latest_job_runs(conn: Connection, job_ids: Iterable[int]) -> dict[int, RunInfo]:
    """Each job's most recent run (by start, else first event)."""
    started = func.coalesce(runs_t.c.started_at, runs_t.c.first_event_time)
    order = func.row_number().over(
        partition_by=runs_t.c.job_id, order_by=(started.desc(), runs_t.c.uuid.desc())
    )

    def build(cond: ColumnElement[bool]) -> Select[Any]:
        ranked = select(*_run_columns(), order.label("rn")).where(cond).subquery()
        return select(*[c for c in ranked.c if c.name != "rn"]).where(ranked.c.rn == 1)

    rows = fetch_in(conn, runs_t.c.job_id, job_ids, build)
    return {row[1]: RunInfo(*row) for row in rows}


def latest_writer_runs(conn: Connection, dataset_ids: Iterable[int]) -> dict[int, RunInfo]:
    """Each dataset's most recent writing run (by the time of its last event about the output)."""
    order = func.row_number().over(
        partition_by=run_io_t.c.dataset_id,
        order_by=(run_io_t.c.event_time.desc(), run_io_t.c.run_uuid.desc()),
    )

    def build(cond: ColumnElement[bool]) -> Select[Any]:
        ranked = (
            select(run_io_t.c.dataset_id, *_run_columns(), order.label("rn"))
            .select_from(run_io_t)
            .join(runs_t, runs_t.c.uuid == run_io_t.c.run_uuid)
            .where(cond, run_io_t.c.direction == "out")
            .subquery()
        )
        return select(*[c for c in ranked.c if c.name != "rn"]).where(ranked.c.rn == 1)

    rows = fetch_in(conn, run_io_t.c.dataset_id, dataset_ids, build)
    return {row[0]: RunInfo(*row[1:]) for row in rows}


def versions(
    conn: Connection, ids: Iterable[int], *, with_facets: bool = True
) -> dict[int, VersionInfo]:
    """Versions by id; ``with_facets=False`` skips loading their facets (left empty)."""
    columns = _version_columns() if with_facets else _version_columns()[:5]
    rows = fetch_in(conn, versions_t.c.id, ids, lambda cond: select(*columns).where(cond))
    return {v.id: v for v in _versions(conn, rows)}


def dataset_versions(
    conn: Connection, dataset_ids: Iterable[int], *, as_of: datetime | None = None
) -> dict[int, list[VersionInfo]]:
    """All versions of each dataset, newest first (only those created by ``as_of`` if given)."""

    def build(cond: ColumnElement[bool]) -> Select[Any]:
        query = select(*_version_columns()).where(cond)
        if as_of is not None:
            query = query.where(versions_t.c.created_at <= as_of)
        return query.order_by(versions_t.c.created_at.desc(), versions_t.c.id.desc())

    found: dict[int, list[VersionInfo]] = {}
    for version in _versions(conn, fetch_in(conn, versions_t.c.dataset_id, dataset_ids, build)):
        found.setdefault(version.dataset_id, []).append(version)
    return found


def run_output_versions(conn: Connection, run_uuids: Iterable[str]) -> dict[tuple[str, int], str]:
    """(run, dataset) -> the version string that run produced for that dataset."""
    rows = fetch_in(
        conn,
        versions_t.c.run_uuid,
        run_uuids,
        lambda cond: (
            select(versions_t.c.run_uuid, versions_t.c.dataset_id, versions_t.c.version)
            .where(cond)
            .order_by(versions_t.c.created_at)
        ),
    )
    return {(r, ds): v for r, ds, v in rows}


def _version_columns() -> list[Any]:
    return [
        versions_t.c.id,
        versions_t.c.dataset_id,
        versions_t.c.version,
        versions_t.c.created_at,
        versions_t.c.run_uuid,
        versions_t.c.facet_digests,
    ]


def _version(row: Any) -> VersionInfo:
    """A version without its facets (rows of the first five ``_version_columns``)."""
    return VersionInfo(row[0], row[1], row[2], row[3], row[4], {})


def _versions(conn: Connection, rows: Sequence[Any]) -> list[VersionInfo]:
    """Versions of ``_version_columns`` rows, in order, their facets' bodies looked up at once
    (rows without the sixth column get no facets)."""
    if not rows or len(rows[0]) <= 5:
        return [_version(row) for row in rows]
    maps = [row[5] if isinstance(row[5], dict) else {} for row in rows]
    facets = resolve_maps(conn, maps)
    return [VersionInfo(r[0], r[1], r[2], r[3], r[4], f) for r, f in zip(rows, facets, strict=True)]


def reported_job_facets(payloads: Iterable[dict[str, Any]]) -> Facets:
    """Job facets as a run's raw events reported them, oldest first (later ones win)."""
    merged: Facets = {}
    for payload in payloads:
        for key, facet in ((payload.get("job") or {}).get("facets") or {}).items():
            if isinstance(facet, dict):
                if facet.get("_deleted") is True:
                    merged.pop(key, None)
                else:
                    merged[key] = facet
    return merged
