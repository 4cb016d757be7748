"""Lineage the producers leave out, inferred from orchestration: the ``inferred_io`` table.

A post-projection step: it reads only projected rows (``runs``, ``run_facets``, ``run_io``) and
rewrites the inferred edges of the runs a batch may have changed, so it is idempotent and
order-free (the same projected state always derives the same rows). Two rules:

``airflow_task_dependency``
    A task run ``T`` under a DAG run ``D`` (its ``parent`` facet) that declares no inputs reads
    what its upstream tasks' runs under ``D`` wrote; one that declares no outputs writes what its
    downstream tasks' runs under ``D`` read. Tasks and their dependencies come from the Airflow
    provider's ``airflow`` run facet (``task.task_id``, ``task.upstream_task_ids``,
    ``task.downstream_task_ids``; the provider sends the id lists as a list or as its Python
    repr, both are read). "Declared" and "wrote/read" count a run's own I/O and that of the runs
    nested under it (a Spark or dbt job, our emitter, run by the task).
``parent``
    A run nested under another run (its ``parent`` facet: a Spark application, a dbt model, our
    emitter inside a task) that declares no inputs reads its parent's inputs, declared or
    inferred; no outputs: writes its parent's outputs.

Declared lineage always wins: a run that declares inputs (resp. outputs) gets no inferred ones.
Inference is one step deep: inferred edges are never built from other inferred edges, except a
nested run inheriting its parent's inferred edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql import ColumnElement, Executable
from sqlalchemy.sql.selectable import Subquery

from mllineage.collector.db.tables import inferred_io_t, run_facets_t, run_io_t, runs_t

TASK_DEPENDENCY = "airflow_task_dependency"
PARENT = "parent"

_CHUNK = 400

#: direction of the missing edges -> (the neighbour's direction they come from, the task facet
#: list naming those neighbours, the neighbour's facet list naming this task).
_NEIGHBOURS = {
    "in": ("out", "upstream_task_ids", "downstream_task_ids"),
    "out": ("in", "downstream_task_ids", "upstream_task_ids"),
}


def derive_inferred_edges(conn: Connection, touched: Iterable[str]) -> None:
    """Re-derive the inferred edges of every run whose edges may depend on runs ``touched``.

    ``touched``: the runs a projection batch created or changed. Their dependants are their
    parents, their DAG runs' task runs (siblings, and siblings of their parents) and the runs
    nested under any of those (or under ``touched``); their rows are deleted and derived again,
    task dependencies first (nested runs inherit their parents' inferred edges).
    """
    touched = sorted(set(touched))
    if not touched:
        return
    tasks = _with_dependants(conn, touched)
    stale = sorted(set(_children(conn, tasks)) | set(tasks))
    for chunk in _chunks(stale):
        conn.execute(delete(inferred_io_t).where(inferred_io_t.c.run_uuid.in_(chunk)))
    for chunk in _chunks(stale):
        for direction in ("in", "out"):
            conn.execute(_insert(_task_dependency_edges(conn, chunk, direction)))
    for chunk in _chunks(stale):
        for direction in ("in", "out"):
            conn.execute(_insert(_parent_edges(chunk, direction)))


def _with_dependants(conn: Connection, touched: Sequence[str]) -> list[str]:
    """``touched``, their parents, and every run under a parent or grandparent of ``touched``."""
    parents = set(_parents(conn, touched))
    grandparents = set(_parents(conn, sorted(parents)))
    siblings = _children(conn, sorted(parents | grandparents))
    return sorted(set(touched) | parents | set(siblings))


def _parents(conn: Connection, runs: Sequence[str]) -> list[str]:
    found: list[str] = []
    for chunk in _chunks(runs):
        query = select(runs_t.c.parent_run_uuid).where(
            runs_t.c.uuid.in_(chunk), runs_t.c.parent_run_uuid.is_not(None)
        )
        found.extend(conn.execute(query).scalars())
    return found


def _children(conn: Connection, runs: Sequence[str]) -> list[str]:
    found: list[str] = []
    for chunk in _chunks(runs):
        query = select(runs_t.c.uuid).where(runs_t.c.parent_run_uuid.in_(chunk))
        found.extend(conn.execute(query).scalars())
    return found


def _insert(source: Select[Any]) -> Executable:
    columns = ["run_uuid", "direction", "dataset_id", "via_run_uuid", "job_id", "dag_run_uuid"]
    return inferred_io_t.insert().from_select([*columns, "rule"], source.distinct())


def _declared_io() -> Subquery:
    """Each run's declared I/O: its own ``run_io`` and that of the runs nested under it."""
    child = runs_t.alias("child")
    own = select(run_io_t.c.run_uuid, run_io_t.c.direction, run_io_t.c.dataset_id)
    nested = select(child.c.parent_run_uuid, run_io_t.c.direction, run_io_t.c.dataset_id).join(
        child, child.c.uuid == run_io_t.c.run_uuid
    )
    return union_all(own, nested.where(child.c.parent_run_uuid.is_not(None))).subquery("declared")


def _task_dependency_edges(conn: Connection, runs: Sequence[str], direction: str) -> Select[Any]:
    """Edges of ``direction`` for task runs in ``runs`` that declare none, from their neighbours."""
    source_direction, own_list, their_list = _NEIGHBOURS[direction]
    task, other = runs_t.alias("task"), runs_t.alias("other")
    task_facet, other_facet = run_facets_t.alias("task_facet"), run_facets_t.alias("other_facet")
    declared = _declared_io()
    mine = declared.alias("mine")
    own_ids, own_id = (
        _task_field(task_facet.c.facet, own_list),
        _task_field(task_facet.c.facet, "task_id"),
    )
    their_ids = _task_field(other_facet.c.facet, their_list)
    other_id = _task_field(other_facet.c.facet, "task_id")
    return (
        select(
            task.c.uuid,
            literal(direction),
            declared.c.dataset_id,
            other.c.uuid,
            task.c.job_id,
            task.c.parent_run_uuid,
            literal(TASK_DEPENDENCY),
        )
        .select_from(task)
        .join(task_facet, and_(task_facet.c.run_uuid == task.c.uuid, task_facet.c.key == "airflow"))
        .join(
            other,
            and_(other.c.parent_run_uuid == task.c.parent_run_uuid, other.c.uuid != task.c.uuid),
        )
        .join(
            other_facet,
            and_(other_facet.c.run_uuid == other.c.uuid, other_facet.c.key == "airflow"),
        )
        .join(
            declared,
            and_(declared.c.run_uuid == other.c.uuid, declared.c.direction == source_direction),
        )
        .where(
            task.c.uuid.in_(runs),
            task.c.parent_run_uuid.is_not(None),
            or_(_names(conn, own_ids, other_id), _names(conn, their_ids, own_id)),
            ~exists().where(mine.c.run_uuid == task.c.uuid, mine.c.direction == direction),
        )
    )


def _parent_edges(runs: Sequence[str], direction: str) -> Select[Any]:
    """Edges of ``direction`` for nested runs in ``runs`` that declare none, from their parent."""
    child, parent = runs_t.alias("nested"), runs_t.alias("parent")
    parent_edges = union_all(
        select(run_io_t.c.run_uuid, run_io_t.c.direction, run_io_t.c.dataset_id),
        select(inferred_io_t.c.run_uuid, inferred_io_t.c.direction, inferred_io_t.c.dataset_id),
    ).subquery("parent_edges")
    own = select(run_io_t.c.run_uuid).where(
        run_io_t.c.run_uuid == child.c.uuid, run_io_t.c.direction == direction
    )
    return (
        select(
            child.c.uuid,
            literal(direction),
            parent_edges.c.dataset_id,
            child.c.parent_run_uuid,
            child.c.job_id,
            parent.c.parent_run_uuid,
            literal(PARENT),
        )
        .select_from(child)
        .join(parent, parent.c.uuid == child.c.parent_run_uuid)
        .join(
            parent_edges,
            and_(
                parent_edges.c.run_uuid == child.c.parent_run_uuid,
                parent_edges.c.direction == direction,
            ),
        )
        .where(child.c.uuid.in_(runs), ~own.exists())
    )


def _task_field(facet: Any, name: str) -> ColumnElement[str]:
    """``facet.task.<name>`` as text (a JSON list comes back as its JSON text)."""
    field: ColumnElement[str] = facet[("task", name)].as_string()
    return field


def _names(
    conn: Connection, id_list: ColumnElement[str], task_id: ColumnElement[str]
) -> ColumnElement[bool]:
    """``task_id`` is one of the ids in ``id_list`` (a JSON list or a Python list repr)."""
    position = func.strpos if conn.dialect.name == "postgresql" else func.instr
    quoted = [quote + task_id + quote for quote in ("'", '"')]
    return or_(*(position(id_list, needle) > 0 for needle in quoted))


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
