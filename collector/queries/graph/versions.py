"""``VersionGraph``: pinned to versions. Upstream, a version leads to the run that produced it and a
run to the exact versions it read (a read without a version means the latest version created at
or before the run started; for a dataset that has no version by then, the latest version of a
dataset it is symlinked with). Downstream, a version leads to the runs that read exactly it and a
run to the versions it wrote. A dataset without any version is a node of its own (``dataset``).
``inferred_graph.InferredVersionGraph`` adds every run's inferred edges (``edges=all``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, null, select, union_all

from mllineage.collector.db.tables import run_io_t, runs_t, versions_t
from mllineage.collector.queries.graph.lookups import (
    Read,
    producing_runs_and_reads,
    read_targets,
    read_versions,
    symlink_partners,
    symlinks_exist,
    version_at_start,
    written_versions,
)
from mllineage.collector.queries.graph.walk import (
    Direction,
    Hop,
    Node,
    NodeGraph,
    dataset,
    run,
    version,
)
from mllineage.collector.queries.membership import fetch_in, member_of


class VersionGraph(NodeGraph):
    """Dataset versions and runs (see the module docstring)."""

    def __init__(self) -> None:
        self._has_symlinks: bool | None = None
        self._reads: dict[str, list[Read]] = {}  # reads of producing runs, fetched with them

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        versions = [int(n.id) for n in frontier if n.type == "version"]
        plain = [int(n.id) for n in frontier if n.type == "dataset"]
        runs = [str(n.id) for n in frontier if n.type == "run"]
        hops: list[Hop] = []
        if direction == "upstream":
            for vid, run_uuid in self._producers(conn, versions):
                hops.append((version(vid), run(run_uuid), run_uuid))
            for run_uuid, target in self._versions_read(conn, runs):
                hops.append((run(run_uuid), target, run_uuid))
        else:
            for run_uuid, target in self._readers(conn, versions, plain):
                hops.append((target, run(run_uuid), run_uuid))
            for run_uuid, target in written_versions(conn, runs):
                hops.append((run(run_uuid), target, run_uuid))
        return hops

    def _producers(self, conn: Connection, versions: list[int]) -> list[tuple[int, str]]:
        """``producing_runs``, remembering what those runs read: the next level asks for it."""
        if not versions:
            return []
        found, reads = producing_runs_and_reads(conn, versions)
        self._reads.update(reads)
        return found

    def _versions_read(self, conn: Connection, runs: list[str]) -> list[tuple[str, Node]]:
        """``read_versions``, from the reads remembered with the producing runs where possible."""
        known = [read for r in runs if r in self._reads for read in self._reads[r]]
        fetched = [r for r in runs if r not in self._reads]
        symlinks = self._symlinks(conn)
        found = read_targets(conn, known, symlinks) if known else []
        return [*found, *read_versions(conn, fetched, symlinks=symlinks)]

    def _symlinks(self, conn: Connection) -> bool:
        if self._has_symlinks is None:
            self._has_symlinks = symlinks_exist(conn)
        return self._has_symlinks

    def _readers(
        self, conn: Connection, versions: list[int], plain: list[int]
    ) -> list[tuple[str, Node]]:
        """(run, version or dataset node it read) for runs that read exactly these nodes."""
        if not versions and not plain:
            return []
        if not self._symlinks(conn):
            return _reads_of(conn, versions, plain)
        exact = fetch_in(
            conn,
            run_io_t.c.version_id,
            versions,
            lambda cond: select(run_io_t.c.run_uuid, run_io_t.c.version_id).where(
                cond, run_io_t.c.direction == "in"
            ),
        )
        found = [(r, version(v)) for r, v in exact]
        unpinned = self._unpinned_via_symlinks(conn, versions, plain)
        wanted = set(versions)
        plain_set = set(plain)
        for run_uuid, target in unpinned:
            if (target.type == "version" and int(target.id) in wanted) or (
                target.type == "dataset" and int(target.id) in plain_set
            ):
                found.append((run_uuid, target))
        return found

    def _unpinned_via_symlinks(
        self, conn: Connection, versions: list[int], plain: list[int]
    ) -> list[tuple[str, Node]]:
        """What the runs reading these datasets (or datasets symlinked with them) without a
        version resolved their reads to."""
        owners = fetch_in(
            conn,
            versions_t.c.id,
            versions,
            lambda cond: select(versions_t.c.dataset_id).where(cond),
        )
        dataset_ids = {row[0] for row in owners} | set(plain)
        for partners in symlink_partners(conn, dataset_ids).values():
            dataset_ids |= partners
        unpinned = fetch_in(
            conn,
            run_io_t.c.dataset_id,
            sorted(dataset_ids),
            lambda cond: select(run_io_t.c.run_uuid).where(
                cond, run_io_t.c.direction == "in", run_io_t.c.version_id.is_(None)
            ),
        )
        return read_versions(conn, sorted({row[0] for row in unpinned}), symlinks=True)


def _reads_of(conn: Connection, versions: list[int], plain: list[int]) -> list[tuple[str, Node]]:
    """(run, node) for the runs that read exactly these versions or unversioned datasets, in a
    database without symlinks: reads naming one of the versions, and reads naming no version of
    their datasets that resolve (as ``read_versions`` does) to one of them. One statement, a
    branch per kind of match so that each keeps its index (an OR of them scans ``run_io``)."""
    io = run_io_t.c
    branches: list[Select[Any]] = []
    unversioned = (
        select(io.run_uuid, io.dataset_id, io.version_id, version_at_start())
        .select_from(run_io_t)
        .join(runs_t, runs_t.c.uuid == io.run_uuid)
        .where(io.direction == "in", io.version_id.is_(None))
    )
    if versions:
        branches.append(
            select(io.run_uuid, io.dataset_id, io.version_id, null()).where(
                io.direction == "in", member_of(conn, io.version_id, versions)
            )
        )
        owners = select(versions_t.c.dataset_id).where(member_of(conn, versions_t.c.id, versions))
        branches.append(unversioned.where(io.dataset_id.in_(owners)))
    if plain:
        branches.append(unversioned.where(member_of(conn, io.dataset_id, plain)))
    rows = conn.execute(union_all(*branches) if len(branches) > 1 else branches[0])
    wanted, plain_set = set(versions), set(plain)
    found: dict[tuple[str, Node], None] = {}
    for run_uuid, dataset_id, named, at_start in rows:
        if named is not None:
            found[(run_uuid, version(named))] = None
        elif at_start is not None and at_start in wanted:
            found[(run_uuid, version(at_start))] = None
        elif at_start is None and dataset_id in plain_set:
            found[(run_uuid, dataset(dataset_id))] = None
    return list(found)
