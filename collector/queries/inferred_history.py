"""Inferred edges in history: those of the runs current at a time, and those of any run with the
dataset versions they stand for (the ``asOf`` and ``scope=versions`` walks of ``inferred_graph``).

``inferred_io`` rows are keyed by run, so the inferred edges of the graph as of ``t`` are those of
the run that was each job's current run at ``t``: the run the as-of graph already takes its
declared edges from. This module fetches the candidates; the graph keeps the chosen runs' edges.

A version-pinned walk needs versions where the row names a dataset. An inferred read resolves as
an unversioned declared read does: to the dataset's latest version created at or before the run
started. An inferred write resolves to the dataset's latest version created at or before the run
ended (the run declared nothing, so it produced no version of its own). A dataset without a
version by then is the unversioned ``dataset`` node. Symlinked datasets are not consulted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, func, literal, select, union_all

from mllineage.collector.db.tables import inferred_io_t, runs_t, versions_t
from mllineage.collector.queries.graph.walk import Node, dataset, version
from mllineage.collector.queries.inferred import InferredEdge
from mllineage.collector.queries.membership import fetch_in

#: An inferred edge and the node (version, else unversioned dataset) its dataset stands for.
Resolved = tuple[InferredEdge, Node]


def touching_as_of(
    conn: Connection, dataset_ids: Sequence[int], direction: str, as_of: datetime
) -> list[InferredEdge]:
    """The inferred edges on ``direction`` of these datasets, of runs seen by ``as_of`` (the
    caller keeps those of the runs current then)."""
    return [
        InferredEdge(*row)
        for row in fetch_in(
            conn,
            inferred_io_t.c.dataset_id,
            dataset_ids,
            lambda cond: (
                _edge_columns()
                .join(runs_t, runs_t.c.uuid == inferred_io_t.c.run_uuid)
                .where(
                    cond,
                    inferred_io_t.c.direction == direction,
                    runs_t.c.first_event_time <= as_of,
                )
            ),
        )
    ]


def of_runs(conn: Connection, run_uuids: Sequence[str], direction: str) -> list[Resolved]:
    """The inferred edges on ``direction`` of these runs, each with the version it stands for."""
    rows = fetch_in(
        conn,
        inferred_io_t.c.run_uuid,
        run_uuids,
        lambda cond: _resolving(direction).where(cond, inferred_io_t.c.direction == direction),
    )
    return [_resolved(row) for row in rows]


def of_versions(
    conn: Connection, version_ids: Sequence[int], plain: Sequence[int], direction: str
) -> list[Resolved]:
    """The inferred edges on ``direction`` (of any run) that stand for exactly these versions,
    or for these datasets unversioned (``plain``: datasets the walk holds without a version).
    One statement per kind of node (the versions' datasets are found inside it)."""
    rows = fetch_in(
        conn,
        versions_t.c.id,
        version_ids,
        lambda cond: _resolving(direction).where(
            inferred_io_t.c.dataset_id.in_(select(versions_t.c.dataset_id).where(cond)),
            inferred_io_t.c.direction == direction,
        ),
    )
    rows += fetch_in(
        conn,
        inferred_io_t.c.dataset_id,
        plain,
        lambda cond: _resolving(direction).where(cond, inferred_io_t.c.direction == direction),
    )
    wanted, plain_set = set(version_ids), set(plain)
    found: dict[Resolved, None] = {}
    for row in rows:
        edge, target = _resolved(row)
        standing = int(target.id)
        if (target.type == "version" and standing in wanted) or (
            target.type == "dataset" and standing in plain_set
        ):
            found[(edge, target)] = None
    return list(found)


def upstream_of_versions(
    conn: Connection, version_ids: Sequence[int]
) -> tuple[list[Resolved], dict[str, list[Resolved]]]:
    """For an upstream walk at these versions: the inferred writes that stand for them, and the
    inferred reads of the runs that produced them (``versions.run_uuid``), which the walk's
    next level asks for. One statement; the reads come keyed by run."""
    rows = fetch_in(
        conn,
        versions_t.c.id,
        version_ids,
        lambda cond: union_all(
            _resolving("out")
            .add_columns(literal("out"))
            .where(
                inferred_io_t.c.dataset_id.in_(select(versions_t.c.dataset_id).where(cond)),
                inferred_io_t.c.direction == "out",
            ),
            _resolving("in")
            .add_columns(literal("in"))
            .where(
                inferred_io_t.c.run_uuid.in_(select(versions_t.c.run_uuid).where(cond)),
                inferred_io_t.c.direction == "in",
            ),
        ),
    )
    wanted = set(version_ids)
    writes: dict[Resolved, None] = {}
    reads: dict[str, list[Resolved]] = {}
    for row in rows:
        edge, target = _resolved(row)
        if row[8] == "in":
            reads.setdefault(edge.run_uuid, []).append((edge, target))
        elif target.type == "version" and int(target.id) in wanted:
            writes[(edge, target)] = None
    return list(writes), reads


def _edge_columns() -> Any:
    t = inferred_io_t.c
    return select(
        t.run_uuid, t.job_id, t.direction, t.dataset_id, t.via_run_uuid, t.dag_run_uuid, t.rule
    )


@cache  # built once per direction: see ``lookups.version_at_start``
def _resolving(direction: str) -> Any:
    """Inferred edges with the version their dataset stands for (see the module docstring)."""
    if direction == "in":
        at = func.coalesce(runs_t.c.started_at, runs_t.c.first_event_time)
    else:
        at = func.coalesce(runs_t.c.ended_at, runs_t.c.last_event_time)
    latest = versions_t.alias("inferred_latest")
    standing = (
        select(latest.c.id)
        .where(latest.c.dataset_id == inferred_io_t.c.dataset_id, latest.c.created_at <= at)
        .order_by(latest.c.created_at.desc(), latest.c.id.desc())
        .limit(1)
        .correlate(inferred_io_t, runs_t)
        .scalar_subquery()
    )
    return (
        _edge_columns()
        .add_columns(standing)
        .join(runs_t, runs_t.c.uuid == inferred_io_t.c.run_uuid)
    )


def _resolved(row: Any) -> Resolved:
    edge = InferredEdge(*row[:7])
    standing = row[7]
    return edge, version(standing) if standing is not None else dataset(edge.dataset_id)
