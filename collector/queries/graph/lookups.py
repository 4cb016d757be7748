"""Run, version and symlink lookups shared by the graphs and the catalog: which run produced a
version, which versions a run read or wrote, each job's run as of a time, symlink partners. Each
looks up a whole set of ids in one statement (or a few)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, and_, case, exists, func, select
from sqlalchemy.sql import ColumnElement

from mllineage.collector.db.tables import (
    datasets_t,
    namespaces_t,
    run_io_t,
    runs_t,
    symlinks_t,
    versions_t,
)
from mllineage.collector.queries.graph.walk import Node, dataset, version
from mllineage.collector.queries.membership import fetch_in


def symlink_pairs(conn: Connection, ids: Sequence[int]) -> list[tuple[int, int]]:
    """(declaring dataset, aliased dataset) pairs where either side is in ``ids``: the aliased
    dataset is the one stored under a ``symlinks`` identifier of the declaring one."""
    ns_of_alias = namespaces_t.c.name == symlinks_t.c.namespace
    declared = fetch_in(
        conn,
        symlinks_t.c.dataset_id,
        ids,
        lambda cond: (
            select(symlinks_t.c.dataset_id, datasets_t.c.id)
            .join(namespaces_t, ns_of_alias)
            .join(
                datasets_t,
                and_(
                    datasets_t.c.namespace_id == namespaces_t.c.id,
                    datasets_t.c.name == symlinks_t.c.name,
                ),
            )
            .where(cond)
        ),
    )
    aliased = fetch_in(
        conn,
        datasets_t.c.id,
        ids,
        lambda cond: (
            select(symlinks_t.c.dataset_id, datasets_t.c.id)
            .select_from(datasets_t)
            .join(namespaces_t, namespaces_t.c.id == datasets_t.c.namespace_id)
            .join(symlinks_t, and_(ns_of_alias, symlinks_t.c.name == datasets_t.c.name))
            .where(cond)
        ),
    )
    return sorted({(int(o), int(a)) for o, a in [*declared, *aliased] if o != a})


def latest_runs_as_of(conn: Connection, job_ids: Sequence[int], as_of: datetime) -> dict[int, str]:
    """Per job, its latest run COMPLETE at or before ``as_of``, else its latest run seen by then."""
    done = and_(runs_t.c.state == "COMPLETE", runs_t.c.ended_at <= as_of)
    started = func.coalesce(runs_t.c.started_at, runs_t.c.first_event_time)
    rank_time = case((done, runs_t.c.ended_at), else_=started)
    order = func.row_number().over(
        partition_by=runs_t.c.job_id,
        order_by=(case((done, 1), else_=0).desc(), rank_time.desc(), runs_t.c.uuid.desc()),
    )

    def build(cond: ColumnElement[bool]) -> Select[tuple[int, str]]:
        ranked = (
            select(runs_t.c.job_id, runs_t.c.uuid, order.label("rn"))
            .where(cond, runs_t.c.first_event_time <= as_of)
            .subquery()
        )
        return select(ranked.c.job_id, ranked.c.uuid).where(ranked.c.rn == 1)

    return {int(row[0]): str(row[1]) for row in fetch_in(conn, runs_t.c.job_id, job_ids, build)}


def producing_runs(conn: Connection, version_ids: Sequence[int]) -> list[tuple[int, str]]:
    """(version, run that produced it). A version only ever seen as an input falls back to the
    latest run that COMPLETEd writing its dataset at or before the version was first seen."""
    rows = fetch_in(
        conn,
        versions_t.c.id,
        version_ids,
        lambda cond: select(versions_t.c.id, versions_t.c.run_uuid).where(cond),
    )
    found = [(vid, run_uuid) for vid, run_uuid in rows if run_uuid is not None]
    orphans = [vid for vid, run_uuid in rows if run_uuid is None]
    order = func.row_number().over(
        partition_by=versions_t.c.id,
        order_by=(runs_t.c.ended_at.desc(), runs_t.c.uuid.desc()),
    )

    def build(cond: ColumnElement[bool]) -> Select[tuple[int, str]]:
        ranked = (
            select(versions_t.c.id, run_io_t.c.run_uuid, order.label("rn"))
            .select_from(versions_t)
            .join(
                run_io_t,
                and_(
                    run_io_t.c.dataset_id == versions_t.c.dataset_id,
                    run_io_t.c.direction == "out",
                ),
            )
            .join(runs_t, runs_t.c.uuid == run_io_t.c.run_uuid)
            .where(cond, runs_t.c.state == "COMPLETE", runs_t.c.ended_at <= versions_t.c.created_at)
            .subquery()
        )
        return select(ranked.c.id, ranked.c.run_uuid).where(ranked.c.rn == 1)

    found.extend(
        (vid, run_uuid) for vid, run_uuid in fetch_in(conn, versions_t.c.id, orphans, build)
    )
    return found


def producing_runs_and_reads(
    conn: Connection, version_ids: Sequence[int]
) -> tuple[list[tuple[int, str]], dict[str, list[Read]]]:
    """``producing_runs``, and what each of those runs read (``Read`` rows, for ``read_targets``)
    fetched in the same statement: a version-pinned walk upstream asks for them next."""
    rows = fetch_in(
        conn,
        versions_t.c.id,
        version_ids,
        lambda cond: (
            select(
                versions_t.c.id,
                versions_t.c.run_uuid,
                run_io_t.c.dataset_id,
                run_io_t.c.version_id,
                resolved_read(),
            )
            .select_from(versions_t)
            .outerjoin(
                run_io_t,
                and_(run_io_t.c.run_uuid == versions_t.c.run_uuid, run_io_t.c.direction == "in"),
            )
            .outerjoin(runs_t, runs_t.c.uuid == run_io_t.c.run_uuid)
            .where(cond)
        ),
    )
    found: dict[tuple[int, str], None] = {}
    reads: dict[str, list[Read]] = {}
    orphans: list[int] = []
    for vid, run_uuid, dataset_id, named, at_start in rows:
        if run_uuid is None:
            orphans.append(vid)
            continue
        found[(vid, run_uuid)] = None
        run_reads = reads.setdefault(run_uuid, [])
        if dataset_id is not None:
            run_reads.append((run_uuid, dataset_id, named, at_start))
    return [*found, *producing_runs(conn, orphans)], reads


def read_versions(
    conn: Connection, run_uuids: Sequence[str], *, symlinks: bool | None = None
) -> list[tuple[str, Node]]:
    """(run, version it read): the named version, else the dataset's latest version created at or
    before the run started, else the unversioned ``dataset`` node. One statement, plus symlink
    lookups for reads that found no version when ``symlinks`` (checked when None) exist."""
    rows = fetch_in(
        conn,
        run_io_t.c.run_uuid,
        run_uuids,
        lambda cond: (
            select(
                run_io_t.c.run_uuid, run_io_t.c.dataset_id, run_io_t.c.version_id, resolved_read()
            )
            .select_from(run_io_t)
            .join(runs_t, runs_t.c.uuid == run_io_t.c.run_uuid)
            .where(cond, run_io_t.c.direction == "in")
        ),
    )
    return read_targets(conn, rows, symlinks)


Read = tuple[str, int, int | None, int | None]  # (run, dataset, named version, version at start)


@cache
def resolved_read() -> Any:
    """The version an unversioned read resolves to (NULL for a read that names its version)."""
    return case((run_io_t.c.version_id.is_(None), version_at_start()), else_=None)


def read_targets(
    conn: Connection, rows: Iterable[Read], symlinks: bool | None
) -> list[tuple[str, Node]]:
    """``read_versions``'s answer from its rows: named versions (in row order), then the
    resolved unversioned reads in (run, dataset) order."""
    rows = list(rows)
    found: list[tuple[str, Node]] = [(r, version(v)) for r, _, v, _ in rows if v is not None]
    unpinned = {(r, ds): at_start for r, ds, v, at_start in rows if v is None}
    missing = [pair for pair, vid in unpinned.items() if vid is None]
    if missing and (symlinks if symlinks is not None else symlinks_exist(conn)):
        unpinned.update(_versions_via_symlinks(conn, missing))
    for run_uuid, dataset_id in sorted(unpinned):
        vid = unpinned[(run_uuid, dataset_id)]
        found.append((run_uuid, version(vid) if vid is not None else dataset(dataset_id)))
    return found


@cache  # built once: an alias's column collection costs more than compiling the statement
def version_at_start() -> Any:
    """Correlated scalar subquery: the latest version of ``run_io.dataset_id`` created at or
    before ``runs`` started (latest creation time, then highest id)."""
    started = func.coalesce(runs_t.c.started_at, runs_t.c.first_event_time)
    latest = versions_t.alias("latest")
    return (
        select(latest.c.id)
        .where(latest.c.dataset_id == run_io_t.c.dataset_id, latest.c.created_at <= started)
        .order_by(latest.c.created_at.desc(), latest.c.id.desc())
        .limit(1)
        .correlate(run_io_t, runs_t)
        .scalar_subquery()
    )


def symlinks_exist(conn: Connection) -> bool:
    """Whether any dataset declares a symlink (else symlink lookups can be skipped)."""
    return bool(conn.execute(select(exists().select_from(symlinks_t))).scalar())


def _versions_via_symlinks(
    conn: Connection, reads: list[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """For reads of a dataset that has no version by then: the latest version of a symlinked
    dataset (a table read by name whose versions are recorded on the path it aliases)."""
    partners = symlink_partners(conn, {ds for _, ds in reads})
    wanted = {p for _, ds in reads for p in partners.get(ds, ())}
    if not wanted:
        return {}
    started = dict(
        fetch_in(
            conn,
            runs_t.c.uuid,
            [r for r, _ in reads],
            lambda cond: select(
                runs_t.c.uuid, func.coalesce(runs_t.c.started_at, runs_t.c.first_event_time)
            ).where(cond),
        )
    )
    versions = fetch_in(
        conn,
        versions_t.c.dataset_id,
        wanted,
        lambda cond: (
            select(versions_t.c.dataset_id, versions_t.c.id, versions_t.c.created_at)
            .where(cond)
            .order_by(versions_t.c.created_at.desc(), versions_t.c.id.desc())
        ),
    )
    found: dict[tuple[str, int], int] = {}
    for run_uuid, dataset_id in reads:
        at = started.get(run_uuid)
        candidates = [
            (created, vid)
            for ds, vid, created in versions
            if ds in partners.get(dataset_id, ()) and at is not None and created <= at
        ]
        if candidates:
            found[(run_uuid, dataset_id)] = max(candidates)[1]
    return found


def symlink_partners(conn: Connection, ids: Iterable[int]) -> dict[int, set[int]]:
    """Dataset id -> the ids it is symlinked with (either way)."""
    partners: dict[int, set[int]] = {}
    for owner, alias in symlink_pairs(conn, sorted(set(ids))):
        partners.setdefault(owner, set()).add(alias)
        partners.setdefault(alias, set()).add(owner)
    return partners


def written_versions(conn: Connection, run_uuids: Sequence[str]) -> list[tuple[str, Node]]:
    """(run, version it wrote): the named version, else the version it produced, else the
    unversioned ``dataset`` node (a run that has not completed). One statement."""
    own_version = _own_version()
    rows = fetch_in(
        conn,
        run_io_t.c.run_uuid,
        run_uuids,
        lambda cond: select(
            run_io_t.c.run_uuid,
            run_io_t.c.dataset_id,
            func.coalesce(run_io_t.c.version_id, own_version),
        ).where(cond, run_io_t.c.direction == "out"),
    )
    return [
        (run_uuid, version(vid) if vid is not None else dataset(dataset_id))
        for run_uuid, dataset_id, vid in rows
    ]


@cache
def _own_version() -> Any:
    """Correlated scalar subquery: the version ``run_io.run_uuid`` produced of its dataset."""
    produced = versions_t.alias("produced")
    return (
        select(func.max(produced.c.id))
        .where(
            produced.c.run_uuid == run_io_t.c.run_uuid,
            produced.c.dataset_id == run_io_t.c.dataset_id,
        )
        .correlate(run_io_t)
        .scalar_subquery()
    )
