"""Reading inferred edges (``inferred_io``, derived by ``ingest/inferred.py``) and their evidence.

A job's current inferred edges are those of its current run (``jobs.current_run_uuid``), like its
declared ones (``job_edges``); as of a time, those of the run current then (``of_runs``, and
``inferred_history`` for the lookups by dataset and the version-pinned walks). Evidence is a sentence a reviewer can check against the
orchestrator: ``airflow task dependency: build_features → train, DAG run <uuid>`` or ``runs under
airflow:churn_training.train (run <uuid>), whose inputs it inherits``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select

from mllineage.collector.db.models import PARENT, TASK_DEPENDENCY
from mllineage.collector.db.tables import (
    facet_contents_t,
    inferred_io_t,
    jobs_t,
    namespaces_t,
    run_facets_t,
    runs_t,
)

_CHUNK = 400


@dataclass(frozen=True, slots=True)
class InferredEdge:
    """``run_uuid`` (of job ``job_id``) read ('in') or wrote ('out') ``dataset_id`` by inference."""

    run_uuid: str
    job_id: int
    direction: str
    dataset_id: int
    via_run_uuid: str
    dag_run_uuid: str | None
    rule: str


def exist(conn: Connection) -> bool:
    """Whether any inferred edge is stored at all."""
    return conn.execute(select(inferred_io_t.c.run_uuid).limit(1)).first() is not None


def current_of_jobs(conn: Connection, job_ids: Iterable[int]) -> list[InferredEdge]:
    """The inferred edges of these jobs' current runs."""
    current = and_(
        jobs_t.c.id == inferred_io_t.c.job_id,
        jobs_t.c.current_run_uuid == inferred_io_t.c.run_uuid,
    )
    query = _edges().join(jobs_t, current)
    return list(_fetch(conn, query, inferred_io_t.c.job_id, sorted(set(job_ids))))


def current_of_datasets(conn: Connection, dataset_ids: Iterable[int]) -> list[InferredEdge]:
    """The current inferred edges (of jobs' current runs) that touch these datasets."""
    current = and_(
        jobs_t.c.id == inferred_io_t.c.job_id,
        jobs_t.c.current_run_uuid == inferred_io_t.c.run_uuid,
    )
    query = _edges().join(jobs_t, current)
    return list(_fetch(conn, query, inferred_io_t.c.dataset_id, sorted(set(dataset_ids))))


def of_runs(conn: Connection, run_uuids: Iterable[str]) -> list[InferredEdge]:
    """Every inferred edge of these runs (the history behind ``asOf`` and versions)."""
    return list(_fetch(conn, _edges(), inferred_io_t.c.run_uuid, sorted(set(run_uuids))))


def evidence(conn: Connection, edges: Sequence[InferredEdge]) -> dict[InferredEdge, str]:
    """One sentence per edge saying what it was inferred from."""
    runs = {e.run_uuid for e in edges} | {e.via_run_uuid for e in edges}
    tasks = _task_ids(conn, runs)
    jobs = _job_names(conn, runs)
    said: dict[InferredEdge, str] = {}
    for edge in edges:
        if edge.rule == TASK_DEPENDENCY:
            mine, theirs = tasks.get(edge.run_uuid, "?"), tasks.get(edge.via_run_uuid, "?")
            first, then = (theirs, mine) if edge.direction == "in" else (mine, theirs)
            said[edge] = f"airflow task dependency: {first} → {then}, DAG run {edge.dag_run_uuid}"
        elif edge.rule == PARENT:
            side = "inputs" if edge.direction == "in" else "outputs"
            parent = jobs.get(edge.via_run_uuid, "?")
            said[edge] = f"runs under {parent} (run {edge.via_run_uuid}), whose {side} it inherits"
        else:
            said[edge] = edge.rule
    return said


def _edges() -> Any:
    t = inferred_io_t.c
    return select(
        t.run_uuid, t.job_id, t.direction, t.dataset_id, t.via_run_uuid, t.dag_run_uuid, t.rule
    )


def _fetch(
    conn: Connection, query: Any, column: Any, values: Sequence[Any]
) -> Iterator[InferredEdge]:
    for start in range(0, len(values), _CHUNK):
        for row in conn.execute(query.where(column.in_(values[start : start + _CHUNK]))):
            yield InferredEdge(*row)


def _task_ids(conn: Connection, runs: set[str]) -> dict[str, str]:
    task_id = facet_contents_t.c.body[("task", "task_id")].as_string()
    query = (
        select(run_facets_t.c.run_uuid, task_id)
        .join(facet_contents_t, facet_contents_t.c.digest == run_facets_t.c.facet_digest)
        .where(run_facets_t.c.key == "airflow")
    )
    found = _pairs(conn, query, run_facets_t.c.run_uuid, sorted(runs))
    return {run: task for run, task in found if task}


def _job_names(conn: Connection, runs: set[str]) -> dict[str, str]:
    query = (
        select(runs_t.c.uuid, namespaces_t.c.name, jobs_t.c.name)
        .join(jobs_t, jobs_t.c.id == runs_t.c.job_id)
        .join(namespaces_t, namespaces_t.c.id == jobs_t.c.namespace_id)
    )
    names: dict[str, str] = {}
    for start in range(0, len(runs), _CHUNK):
        chunk = sorted(runs)[start : start + _CHUNK]
        for run, namespace, name in conn.execute(query.where(runs_t.c.uuid.in_(chunk))):
            names[run] = f"{namespace}:{name}"
    return names


def _pairs(
    conn: Connection, query: Any, column: Any, values: Sequence[Any]
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for start in range(0, len(values), _CHUNK):
        rows = conn.execute(query.where(column.in_(values[start : start + _CHUNK])))
        found.extend((row[0], row[1]) for row in rows)
    return found
