"""Resolve node ids and (namespace, name) pairs to stored rows, symlinks included.

A dataset may be named by any of its ``symlinks`` identifiers (the Hive table over a Spark path):
such a name resolves to the dataset that declares the symlink. Among the readings of an ambiguous
node id (``mllineage.schemas.node_ids``) the first one that names a stored entity wins; a direct
name beats a symlink of the same reading.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import Connection, select, tuple_

from mllineage.collector.db.tables import (
    datasets_t,
    jobs_t,
    namespaces_t,
    runs_t,
    symlinks_t,
    versions_t,
)
from mllineage.collector.errors import BadRequest, NotFound
from mllineage.schemas.node_ids import InvalidNodeId, NodeRef, node_id_readings, normalise_run_id


@dataclass(frozen=True, slots=True)
class DatasetRef:
    id: int
    namespace: str
    name: str
    version: str | None = None
    version_id: int | None = None


@dataclass(frozen=True, slots=True)
class JobRef:
    id: int
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class FieldRef:
    dataset: DatasetRef
    field: str


@dataclass(frozen=True, slots=True)
class RunRef:
    uuid: str
    job: JobRef


Resolved = DatasetRef | JobRef | FieldRef | RunRef


def resolve_node(conn: Connection, node_id: str) -> Resolved:
    """The stored entity ``node_id`` names; ``BadRequest`` if unparseable, ``NotFound`` if absent."""
    try:
        readings = node_id_readings(node_id)
    except InvalidNodeId as exc:
        raise BadRequest(str(exc)) from exc
    kind = readings[0].type
    if kind == "run":
        return resolve_run(conn, readings[0].name)
    if kind == "job":
        jobs = _jobs_by_name(conn, [(r.namespace, r.name) for r in readings])
        for reading in readings:
            if (reading.namespace, reading.name) in jobs:
                return jobs[(reading.namespace, reading.name)]
        raise NotFound(f"no job {readings[0].node_id}")
    datasets = _datasets_by_name(
        conn,
        [(r.namespace, r.name) for r in readings],
        first_only=all(r.version is None for r in readings),
    )
    versions = _versions(conn, readings, datasets)
    for reading in readings:
        dataset = datasets.get((reading.namespace, reading.name))
        if dataset is None:
            continue
        if reading.version is not None:
            version_id = versions.get((dataset.id, reading.version))
            if version_id is None:
                continue
            dataset = DatasetRef(
                dataset.id, dataset.namespace, dataset.name, reading.version, version_id
            )
        if kind == "datasetField":
            assert reading.field is not None
            return FieldRef(dataset, reading.field)
        return dataset
    raise NotFound(f"no {kind} {readings[0].node_id}")


def resolve_dataset(
    conn: Connection, namespace: str, name: str, version: str | None = None
) -> DatasetRef:
    """The dataset (or the dataset with that symlink), optionally at ``version``."""
    found = _datasets_by_name(conn, [(namespace, name)]).get((namespace, name))
    if found is None:
        raise NotFound(f"no dataset {name!r} in namespace {namespace!r}")
    if version is None:
        return found
    versions = _versions(
        conn, [NodeRef("dataset", namespace, name, version=version)], {(namespace, name): found}
    )
    version_id = versions.get((found.id, version))
    if version_id is None:
        raise NotFound(f"no version {version!r} of dataset {name!r} in namespace {namespace!r}")
    return DatasetRef(found.id, found.namespace, found.name, version, version_id)


def resolve_job(conn: Connection, namespace: str, name: str) -> JobRef:
    found = _jobs_by_name(conn, [(namespace, name)]).get((namespace, name))
    if found is None:
        raise NotFound(f"no job {name!r} in namespace {namespace!r}")
    return found


def resolve_run(conn: Connection, run_id: str) -> RunRef:
    uuid = normalise_run_id(run_id)
    row = conn.execute(
        select(runs_t.c.uuid, jobs_t.c.id, namespaces_t.c.name, jobs_t.c.name)
        .join(jobs_t, jobs_t.c.id == runs_t.c.job_id)
        .join(namespaces_t, namespaces_t.c.id == jobs_t.c.namespace_id)
        .where(runs_t.c.uuid == uuid)
    ).first()
    if row is None:
        raise NotFound(f"no run {run_id}")
    return RunRef(row[0], JobRef(row[1], row[2], row[3]))


def resolve_namespace(conn: Connection, namespace: str) -> int:
    found = conn.execute(select(namespaces_t.c.id).where(namespaces_t.c.name == namespace)).first()
    if found is None:
        raise NotFound(f"no namespace {namespace!r}")
    return int(found[0])


def _datasets_by_name(
    conn: Connection, keys: list[tuple[str, str]], *, first_only: bool = False
) -> dict[tuple[str, str], DatasetRef]:
    """Datasets by (namespace, name), direct names first, then symlink identifiers.

    ``first_only``: the caller takes the first key (in order) that is found, so symlink
    identifiers are only looked up for the keys before the first one found by name.
    """
    keys = list(dict.fromkeys(keys))
    direct = conn.execute(
        select(datasets_t.c.id, namespaces_t.c.name, datasets_t.c.name)
        .join(namespaces_t, namespaces_t.c.id == datasets_t.c.namespace_id)
        .where(tuple_(namespaces_t.c.name, datasets_t.c.name).in_(keys))
    )
    found = {(ns, name): DatasetRef(id_, ns, name) for id_, ns, name in direct}
    if first_only:
        keys = list(itertools.takewhile(lambda key: key not in found, keys))
    missing = [key for key in keys if key not in found]
    if missing:
        linked = conn.execute(
            select(symlinks_t.c.namespace, symlinks_t.c.name, datasets_t.c.id, namespaces_t.c.name)
            .add_columns(datasets_t.c.name)
            .join(datasets_t, datasets_t.c.id == symlinks_t.c.dataset_id)
            .join(namespaces_t, namespaces_t.c.id == datasets_t.c.namespace_id)
            .where(tuple_(symlinks_t.c.namespace, symlinks_t.c.name).in_(missing))
            .order_by(datasets_t.c.id)
        )
        for alias_ns, alias_name, id_, ns, name in linked:
            found.setdefault((alias_ns, alias_name), DatasetRef(id_, ns, name))
    return found


def _jobs_by_name(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], JobRef]:
    rows = conn.execute(
        select(jobs_t.c.id, namespaces_t.c.name, jobs_t.c.name)
        .join(namespaces_t, namespaces_t.c.id == jobs_t.c.namespace_id)
        .where(tuple_(namespaces_t.c.name, jobs_t.c.name).in_(list(dict.fromkeys(keys))))
    )
    return {(ns, name): JobRef(id_, ns, name) for id_, ns, name in rows}


def _versions(
    conn: Connection, readings: list[NodeRef], datasets: dict[tuple[str, str], DatasetRef]
) -> dict[tuple[int, str], int]:
    wanted = {
        (datasets[(r.namespace, r.name)].id, r.version)
        for r in readings
        if r.version is not None and (r.namespace, r.name) in datasets
    }
    if not wanted:
        return {}
    rows = conn.execute(
        select(versions_t.c.dataset_id, versions_t.c.version, versions_t.c.id).where(
            tuple_(versions_t.c.dataset_id, versions_t.c.version).in_(sorted(wanted))
        )
    )
    return {(ds, version): id_ for ds, version, id_ in rows}
