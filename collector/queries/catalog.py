"""Catalog reads behind the Marquez-compatible API: namespaces, datasets, versions, jobs, runs.

Functions return records (plain dataclasses) with everything the Marquez shapes need, loaded in a
fixed number of batch queries per page. Lists are ordered by name (runs: newest first) and paged
with ``limit``/``offset``; ``Listing.total`` counts every match.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Select, func, select
from sqlalchemy.sql import ColumnElement

from mllineage.collector.db.tables import (
    datasets_t,
    events_t,
    job_edges_t,
    jobs_t,
    namespaces_t,
    runs_t,
    tags_t,
    versions_t,
)
from mllineage.collector.errors import NotFound
from mllineage.collector.queries import details, job_runs, namespace_times, quality
from mllineage.collector.queries.details import (
    DatasetInfo,
    Facets,
    JobInfo,
    RunInfo,
    VersionInfo,
)
from mllineage.collector.queries.graph.lookups import read_versions, written_versions
from mllineage.collector.queries.graph.walk import Node
from mllineage.collector.queries.membership import fetch_in
from mllineage.collector.queries.quality import Checks, Profile
from mllineage.collector.queries.resolve import (
    resolve_dataset,
    resolve_job,
    resolve_namespace,
    resolve_run,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """One slice of a listing (``limit``/``offset``) and how many items the whole listing holds."""

    items: list[T]
    total: int


@dataclass(frozen=True, slots=True)
class NamespaceRecord:
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Tag:
    field: str  # '' for the dataset itself
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class DatasetRecord:
    info: DatasetInfo
    facets: Facets
    tags: list[Tag]
    current_version: str | None
    last_modified_at: datetime | None
    checks: Checks | None = None
    profile: Profile | None = None


@dataclass(frozen=True, slots=True)
class VersionId:
    namespace: str
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class RunRecord:
    info: RunInfo
    job_namespace: str
    job_name: str
    facets: Facets
    inputs: list[VersionId]
    outputs: list[VersionId]


@dataclass(frozen=True, slots=True)
class VersionRecord:
    dataset: DatasetInfo
    version: VersionInfo
    tags: list[Tag]
    created_by_run: RunRecord | None


@dataclass(frozen=True, slots=True)
class JobRecord:
    info: JobInfo
    facets: Facets
    inputs: list[tuple[str, str]]
    outputs: list[tuple[str, str]]
    latest_run: RunRecord | None
    latest_runs: list[RunRecord] = dataclasses.field(
        default_factory=list
    )  # most recent first, up to 10
    parent_job: tuple[str, str] | None = None  # (namespace, name) of the latest run's parent


# -- namespaces --------------------------------------------------------------------------------


def list_namespaces(conn: Connection, *, limit: int, offset: int) -> Listing[NamespaceRecord]:
    total = conn.execute(select(func.count()).select_from(namespaces_t)).scalar_one()
    rows = conn.execute(
        select(namespaces_t.c.name, namespaces_t.c.created_at)
        .order_by(namespaces_t.c.name)
        .limit(limit)
        .offset(offset)
    )
    return Listing(_in_event_time(conn, [NamespaceRecord(*row) for row in rows]), total)


def get_namespace(conn: Connection, name: str) -> NamespaceRecord:
    row = conn.execute(
        select(namespaces_t.c.name, namespaces_t.c.created_at).where(namespaces_t.c.name == name)
    ).first()
    if row is None:
        raise NotFound(f"no namespace {name!r}")
    return _in_event_time(conn, [NamespaceRecord(*row)])[0]


def _in_event_time(conn: Connection, records: list[NamespaceRecord]) -> list[NamespaceRecord]:
    """``created_at`` from the event times of the namespace's datasets and jobs, when earlier."""
    first = namespace_times.first_event_times(conn, [r.name for r in records])
    return [
        NamespaceRecord(r.name, min(r.created_at, first[r.name])) if r.name in first else r
        for r in records
    ]


# -- datasets ----------------------------------------------------------------------------------


def list_datasets(
    conn: Connection, namespace: str, *, limit: int, offset: int
) -> Listing[DatasetRecord]:
    ns_id = resolve_namespace(conn, namespace)
    where = datasets_t.c.namespace_id == ns_id
    total = conn.execute(select(func.count()).select_from(datasets_t).where(where)).scalar_one()
    ids = conn.execute(
        select(datasets_t.c.id).where(where).order_by(datasets_t.c.name).limit(limit).offset(offset)
    ).scalars()
    infos = details.datasets(conn, list(ids))
    ordered = sorted(infos.values(), key=lambda d: d.name)
    return Listing(dataset_records(conn, ordered), total)


def get_dataset(conn: Connection, namespace: str, name: str) -> DatasetRecord:
    ref = resolve_dataset(conn, namespace, name)
    return dataset_records(conn, [details.datasets(conn, [ref.id])[ref.id]])[0]


def dataset_records(conn: Connection, infos: Sequence[DatasetInfo]) -> list[DatasetRecord]:
    ids = [d.id for d in infos]
    facets = details.dataset_facets(conn, ids)
    tags = _tags(conn, ids)
    latest = _latest_versions(conn, ids)
    checks = quality.latest_checks(conn, ids)
    profiles = quality.latest_profiles(conn, ids)
    return [
        DatasetRecord(
            info=info,
            facets=facets.get(info.id, {}),
            tags=tags.get(info.id, []),
            current_version=latest[info.id][0] if info.id in latest else None,
            last_modified_at=latest[info.id][1] if info.id in latest else None,
            checks=checks.get(info.id),
            profile=profiles.get(info.id),
        )
        for info in infos
    ]


def _tags(conn: Connection, ids: Sequence[int]) -> dict[int, list[Tag]]:
    rows = fetch_in(
        conn,
        tags_t.c.dataset_id,
        ids,
        lambda cond: (
            select(tags_t.c.dataset_id, tags_t.c.field, tags_t.c.key, tags_t.c.value)
            .where(cond)
            .order_by(tags_t.c.field, tags_t.c.key, tags_t.c.value)
        ),
    )
    found: dict[int, list[Tag]] = {}
    for dataset_id, field, key, value in rows:
        found.setdefault(dataset_id, []).append(Tag(field, key, value))
    return found


def _latest_versions(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
    """Per dataset: its newest version and when a run last produced one."""
    order = func.row_number().over(
        partition_by=versions_t.c.dataset_id,
        order_by=(versions_t.c.created_at.desc(), versions_t.c.id.desc()),
    )

    def build(cond: ColumnElement[bool]) -> Select[Any]:
        ranked = (
            select(versions_t.c.dataset_id, versions_t.c.version, versions_t.c.created_at)
            .add_columns(order.label("rn"))
            .where(cond)
            .subquery()
        )
        return select(ranked.c.dataset_id, ranked.c.version, ranked.c.created_at).where(
            ranked.c.rn == 1
        )

    return {ds: (v, at) for ds, v, at in fetch_in(conn, versions_t.c.dataset_id, ids, build)}


def list_dataset_versions(
    conn: Connection, namespace: str, name: str, *, limit: int, offset: int
) -> Listing[VersionRecord]:
    ref = resolve_dataset(conn, namespace, name)
    where = versions_t.c.dataset_id == ref.id
    total = conn.execute(select(func.count()).select_from(versions_t).where(where)).scalar_one()
    ids = conn.execute(
        select(versions_t.c.id)
        .where(where)
        .order_by(versions_t.c.created_at.desc(), versions_t.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).scalars()
    return Listing(version_records(conn, list(ids)), total)


def get_dataset_version(conn: Connection, namespace: str, name: str, version: str) -> VersionRecord:
    ref = resolve_dataset(conn, namespace, name, version)
    assert ref.version_id is not None
    return version_records(conn, [ref.version_id])[0]


def version_records(conn: Connection, version_ids: Sequence[int]) -> list[VersionRecord]:
    """Versions in the given order, each with the run that created it."""
    versions = details.versions(conn, version_ids)
    infos = details.datasets(conn, {v.dataset_id for v in versions.values()})
    tags = _tags(conn, list(infos))
    runs = details.runs(conn, {v.run_uuid for v in versions.values() if v.run_uuid})
    run_by_id = {r.info.uuid: r for r in run_records(conn, list(runs.values()))}
    return [
        VersionRecord(
            dataset=infos[versions[vid].dataset_id],
            version=versions[vid],
            tags=tags.get(versions[vid].dataset_id, []),
            created_by_run=run_by_id.get(versions[vid].run_uuid or ""),
        )
        for vid in version_ids
        if vid in versions
    ]


# -- jobs and runs -----------------------------------------------------------------------------


def list_jobs(conn: Connection, namespace: str, *, limit: int, offset: int) -> Listing[JobRecord]:
    ns_id = resolve_namespace(conn, namespace)
    where = jobs_t.c.namespace_id == ns_id
    total = conn.execute(select(func.count()).select_from(jobs_t).where(where)).scalar_one()
    ids = conn.execute(
        select(jobs_t.c.id).where(where).order_by(jobs_t.c.name).limit(limit).offset(offset)
    ).scalars()
    infos = details.jobs(conn, list(ids))
    return Listing(job_records(conn, sorted(infos.values(), key=lambda j: j.name)), total)


def get_job(conn: Connection, namespace: str, name: str) -> JobRecord:
    ref = resolve_job(conn, namespace, name)
    return job_records(conn, [details.jobs(conn, [ref.id])[ref.id]])[0]


def job_records(
    conn: Connection, infos: Sequence[JobInfo], *, runs_per_job: int = job_runs.LATEST_RUNS
) -> list[JobRecord]:
    """Jobs with their facets, current inputs and outputs, and up to ``runs_per_job`` latest runs
    (``latest_runs``, most recent first; the first is ``latest_run``)."""
    ids = [j.id for j in infos]
    facets = details.job_facets(conn, ids)
    edges = fetch_in(
        conn,
        job_edges_t.c.job_id,
        ids,
        lambda cond: (
            select(
                job_edges_t.c.job_id,
                job_edges_t.c.direction,
                namespaces_t.c.name,
                datasets_t.c.name,
            )
            .join(datasets_t, datasets_t.c.id == job_edges_t.c.dataset_id)
            .join(namespaces_t, namespaces_t.c.id == datasets_t.c.namespace_id)
            .where(cond)
            .order_by(namespaces_t.c.name, datasets_t.c.name)
        ),
    )
    ios: dict[tuple[int, str], list[tuple[str, str]]] = {}
    for job_id, direction, ns, name in edges:
        ios.setdefault((job_id, direction), []).append((ns, name))
    recent = job_runs.latest_runs(conn, ids, per_job=runs_per_job)
    runs = {r.info.uuid: r for r in run_records(conn, [r for rs in recent.values() for r in rs])}
    parents = job_runs.parent_jobs(conn, [rs[0].uuid for rs in recent.values()])
    records = []
    for info in infos:
        latest = [runs[r.uuid] for r in recent.get(info.id, [])]
        records.append(
            JobRecord(
                info=info,
                facets=facets.get(info.id, {}),
                inputs=ios.get((info.id, "in"), []),
                outputs=ios.get((info.id, "out"), []),
                latest_run=latest[0] if latest else None,
                latest_runs=latest,
                parent_job=parents.get(latest[0].info.uuid) if latest else None,
            )
        )
    return records


def list_runs(
    conn: Connection, namespace: str, job: str, *, limit: int, offset: int
) -> Listing[RunRecord]:
    ref = resolve_job(conn, namespace, job)
    where = runs_t.c.job_id == ref.id
    started = func.coalesce(runs_t.c.started_at, runs_t.c.first_event_time)
    total = conn.execute(select(func.count()).select_from(runs_t).where(where)).scalar_one()
    uuids = list(
        conn.execute(
            select(runs_t.c.uuid)
            .where(where)
            .order_by(started.desc(), runs_t.c.uuid.desc())
            .limit(limit)
            .offset(offset)
        ).scalars()
    )
    infos = details.runs(conn, uuids)
    return Listing(run_records(conn, [infos[u] for u in uuids]), total)


def get_run(conn: Connection, run_id: str) -> RunRecord:
    ref = resolve_run(conn, run_id)
    return run_records(conn, [details.runs(conn, [ref.uuid])[ref.uuid]])[0]


def run_records(conn: Connection, infos: Sequence[RunInfo]) -> list[RunRecord]:
    """Runs with their job, facets, and the exact versions they read and wrote."""
    uuids = [r.uuid for r in infos]
    jobs = details.jobs(conn, {r.job_id for r in infos})
    facets = details.run_facets(conn, uuids)
    reads, writes = read_versions(conn, uuids), written_versions(conn, uuids)
    version_nodes = [n for _, n in [*reads, *writes]]
    versions = details.versions(
        conn, {int(n.id) for n in version_nodes if n.type == "version"}, with_facets=False
    )
    dataset_ids = {v.dataset_id for v in versions.values()}
    dataset_ids |= {int(n.id) for n in version_nodes if n.type == "dataset"}
    datasets = details.datasets(conn, dataset_ids)

    def version_id(node: Node) -> VersionId | None:
        if node.type != "version" or int(node.id) not in versions:
            return None
        found = versions[int(node.id)]
        info = datasets[found.dataset_id]
        return VersionId(info.namespace, info.name, found.version)

    ins: dict[str, list[VersionId]] = {}
    outs: dict[str, list[VersionId]] = {}
    for target, pairs in ((ins, reads), (outs, writes)):
        for run_uuid, node in pairs:
            if (vid := version_id(node)) is not None:
                target.setdefault(run_uuid, []).append(vid)
    return [
        RunRecord(
            info=info,
            job_namespace=jobs[info.job_id].namespace,
            job_name=jobs[info.job_id].name,
            facets=facets.get(info.uuid, {}),
            inputs=sorted(ins.get(info.uuid, []), key=lambda v: (v.namespace, v.name)),
            outputs=sorted(outs.get(info.uuid, []), key=lambda v: (v.namespace, v.name)),
        )
        for info in infos
    ]


def run_job_facets(conn: Connection, run_id: str) -> tuple[str, Facets]:
    """(run uuid, the job facets as the run's events reported them, else the job's current)."""
    ref = resolve_run(conn, run_id)
    payloads = conn.execute(
        select(events_t.c.payload)
        .where(events_t.c.run_uuid == ref.uuid)
        .order_by(events_t.c.event_time, events_t.c.id)
    ).scalars()
    merged = details.reported_job_facets(payloads)
    if not merged:
        merged = details.job_facets(conn, [ref.job.id]).get(ref.job.id, {})
    return ref.uuid, merged


def run_facets(conn: Connection, run_id: str) -> tuple[str, Facets]:
    ref = resolve_run(conn, run_id)
    return ref.uuid, details.run_facets(conn, [ref.uuid]).get(ref.uuid, {})
