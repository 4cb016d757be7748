"""``AsOfGraph(t)``: the graph as it stood at ``t``: per job, the ``run_io`` edges of its latest run
COMPLETE at or before ``t`` (else of its latest run seen by ``t``; else, for jobs created by ``t``,
their static lineage). ``inferred_graph.InferredAsOfGraph`` adds the inferred edges of the same
runs (``edges=all``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from mllineage.collector.db.tables import jobs_t, run_io_t, runs_t, static_io_t
from mllineage.collector.queries.graph.current import current_graph
from mllineage.collector.queries.graph.datasets import DatasetGraph
from mllineage.collector.queries.graph.lookups import latest_runs_as_of, symlinks_exist
from mllineage.collector.queries.graph.walk import Direction, Hop, Node, dataset, job
from mllineage.collector.queries.membership import fetch_in

#: The "run" of a job whose edges at ``as_of`` are its static (JobEvent) lineage.
STATIC = "static"


def dataset_graph(conn: Connection, as_of: datetime | None) -> DatasetGraph:
    """The graph of datasets and jobs as it stood at ``as_of``; the current graph when None."""
    if as_of is None:
        return current_graph(conn)
    return AsOfGraph(as_of, symlinks=symlinks_exist(conn))


class AsOfGraph(DatasetGraph):
    """The graph as it stood at ``as_of``: each job's edges from the run it had as current then."""

    def __init__(self, as_of: datetime, *, symlinks: bool) -> None:
        super().__init__(symlinks=symlinks)
        self.as_of = as_of
        self._chosen: dict[int, str | None] = {}

    def chosen_runs(self, conn: Connection, job_ids: Iterable[int]) -> dict[int, str | None]:
        """Per job: the run whose edges count at ``as_of`` (``"static"``: JobEvent lineage)."""
        missing = [j for j in dict.fromkeys(job_ids) if j not in self._chosen]
        if missing:
            self._chosen.update(dict.fromkeys(missing))
            self._chosen.update(latest_runs_as_of(conn, missing, self.as_of))
            without = [j for j in missing if self._chosen[j] is None]
            created = fetch_in(
                conn,
                jobs_t.c.id,
                without,
                lambda cond: select(jobs_t.c.id).where(cond, jobs_t.c.created_at <= self.as_of),
            )
            self._chosen.update({row[0]: STATIC for row in created})
        return {j: self._chosen[j] for j in job_ids}

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        downstream = direction == "downstream"
        read_side = "in" if downstream else "out"
        hops: list[Hop] = []
        datasets = self.dataset_ids(frontier)
        if datasets:
            hops.extend(self._jobs_touching(conn, datasets, read_side))
        jobs = [int(n.id) for n in frontier if n.type == "job"]
        if jobs:
            other_side = "out" if downstream else "in"
            for job_id, ds, run_uuid in self._edges_of(conn, jobs, other_side):
                hops.append((job(job_id), dataset(ds), run_uuid))
        return hops

    def _jobs_touching(self, conn: Connection, datasets: dict[int, Node], side: str) -> list[Hop]:
        candidates = fetch_in(
            conn,
            run_io_t.c.dataset_id,
            datasets,
            lambda cond: (
                select(runs_t.c.job_id)
                .distinct()
                .select_from(run_io_t)
                .join(runs_t, runs_t.c.uuid == run_io_t.c.run_uuid)
                .where(cond, run_io_t.c.direction == side, runs_t.c.first_event_time <= self.as_of)
            ),
        )
        static = fetch_in(
            conn,
            static_io_t.c.dataset_id,
            datasets,
            lambda cond: select(static_io_t.c.job_id).where(cond, static_io_t.c.direction == side),
        )
        job_ids = sorted({row[0] for row in [*candidates, *static]})
        return [
            (datasets[ds], job(job_id), run_uuid)
            for job_id, ds, run_uuid in self._edges_of(conn, job_ids, side)
            if ds in datasets
        ]

    def _edges_of(
        self, conn: Connection, job_ids: list[int], side: str
    ) -> list[tuple[int, int, str | None]]:
        """(job, dataset, run) edges on ``side`` of each job's chosen run."""
        chosen = self.chosen_runs(conn, job_ids)
        by_run = {r: j for j, r in chosen.items() if r is not None and r != STATIC}
        edges: list[tuple[int, int, str | None]] = []
        rows = fetch_in(
            conn,
            run_io_t.c.run_uuid,
            by_run,
            lambda cond: select(run_io_t.c.run_uuid, run_io_t.c.dataset_id).where(
                cond, run_io_t.c.direction == side
            ),
        )
        edges.extend((by_run[r], ds, r) for r, ds in rows)
        static_jobs = [j for j, r in chosen.items() if r == STATIC]
        rows = fetch_in(
            conn,
            static_io_t.c.job_id,
            static_jobs,
            lambda cond: select(static_io_t.c.job_id, static_io_t.c.dataset_id).where(
                cond, static_io_t.c.direction == side
            ),
        )
        edges.extend((j, ds, None) for j, ds in rows)
        return edges
