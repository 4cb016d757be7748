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
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.sql import ColumnElement, Executable
from sqlalchemy.sql.elements import BindParameter

from mllineage.collector.db.models import PARENT, TASK_DEPENDENCY
from mllineage.collector.db.tables import (
    facet_contents_t,
    inferred_io_t,
    run_facets_t,
    run_io_t,
    runs_t,
)

_CHUNK = 400
#: The runs a derivation statement works on: one expanding parameter, so statements are built once.
_RUNS: BindParameter[str] = bindparam("runs", expanding=True)

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
    nested under any of those (or under ``touched``). Of those, only runs missing their own I/O
    of a direction can have inferred edges (declared lineage wins), so only they are derived
    again, task dependencies first (nested runs inherit their parents' inferred edges); the
    rows of ``touched`` are dropped too (a run that now declares I/O loses its inferred edges).
    Runs that declare both directions (nearly every run of most producers) cost one index probe
    each: the work follows the runs without lineage, not the size of their DAG runs.
    """
    touched = sorted(set(touched))
    if not touched:
        return
    tasks = _with_dependants(conn, touched)
    nested = _children(conn, sorted(set(touched) | set(tasks)), undeclared=True)
    candidates = sorted(set(tasks) | set(nested))
    for chunk in _chunks(sorted(set(touched) | set(candidates))):
        conn.execute(delete(inferred_io_t).where(inferred_io_t.c.run_uuid.in_(chunk)))
    dialect = conn.dialect.name
    for chunk in _chunks(candidates):
        for direction in ("in", "out"):
            for nested_io in (False, True):
                statement = _task_dependency_insert(dialect, direction, nested_io)
                conn.execute(statement, {"runs": list(chunk)})
    for chunk in _chunks(candidates):
        for direction in ("in", "out"):
            for inherited in (False, True):
                statement = _parent_insert(direction, inherited)
                conn.execute(statement, {"runs": list(chunk)})


def _with_dependants(conn: Connection, touched: Sequence[str]) -> list[str]:
    """Of ``touched``, their parents, and every run under a parent or grandparent of
    ``touched``: those missing their own I/O of a direction."""
    parents = set(_parents(conn, touched))
    grandparents = set(_parents(conn, sorted(parents)))
    siblings = _children(conn, sorted(parents | grandparents), undeclared=True)
    return sorted(set(_undeclared(conn, sorted(set(touched) | parents))) | set(siblings))


def _parents(conn: Connection, runs: Sequence[str]) -> list[str]:
    found: list[str] = []
    for chunk in _chunks(runs):
        query = select(runs_t.c.parent_run_uuid).where(
            runs_t.c.uuid.in_(chunk), runs_t.c.parent_run_uuid.is_not(None)
        )
        found.extend(conn.execute(query).scalars())
    return found


def _children(conn: Connection, runs: Sequence[str], *, undeclared: bool = False) -> list[str]:
    """The runs nested under ``runs`` (``undeclared``: only those missing their own I/O of a
    direction)."""
    statement = _undeclared_children if undeclared else _all_children
    found: list[str] = []
    for chunk in _chunks(runs):
        found.extend(conn.execute(statement(), {"runs": list(chunk)}).scalars())
    return found


def _undeclared(conn: Connection, runs: Sequence[str]) -> list[str]:
    """Those of ``runs`` that are stored (a parent may never have sent an event) and miss their
    own I/O of a direction."""
    found: list[str] = []
    for chunk in _chunks(runs):
        found.extend(conn.execute(_undeclared_runs(), {"runs": list(chunk)}).scalars())
    return found


def _lacks_own_io() -> ColumnElement[bool]:
    """``runs`` has no ``run_io`` row of its own in one direction or both (index probes)."""

    def own(direction: str) -> ColumnElement[bool]:
        io = run_io_t.alias(f"own_{direction}")
        return (
            select(io.c.run_uuid)
            .where(io.c.run_uuid == runs_t.c.uuid, io.c.direction == direction)
            .exists()
        )

    return or_(~own("in"), ~own("out"))


@cache
def _all_children() -> Executable:
    return select(runs_t.c.uuid).where(runs_t.c.parent_run_uuid.in_(_RUNS))


@cache
def _undeclared_children() -> Executable:
    return select(runs_t.c.uuid).where(runs_t.c.parent_run_uuid.in_(_RUNS), _lacks_own_io())


@cache
def _undeclared_runs() -> Executable:
    return select(runs_t.c.uuid).where(runs_t.c.uuid.in_(_RUNS), _lacks_own_io())


def _insert(source: Select[Any]) -> Executable:
    columns = ["run_uuid", "direction", "dataset_id", "via_run_uuid", "job_id", "dag_run_uuid"]
    return inferred_io_t.insert().from_select([*columns, "rule"], source)


def _declares(run_uuid: Any, direction: str) -> ColumnElement[bool]:
    """The run, or a run nested under it, declares I/O of ``direction`` (index probes only)."""
    io, nested_io = run_io_t.alias("declared_io"), run_io_t.alias("nested_io")
    own = select(io.c.run_uuid).where(io.c.run_uuid == run_uuid, io.c.direction == direction)
    child = runs_t.alias("declaring_child")
    nested = (
        select(nested_io.c.run_uuid)
        .join(child, child.c.uuid == nested_io.c.run_uuid)
        .where(child.c.parent_run_uuid == run_uuid, nested_io.c.direction == direction)
    )
    return or_(own.exists(), nested.exists())


def _not_yet(run_uuid: Any, direction: str, dataset_id: Any, via: Any) -> ColumnElement[bool]:
    """No inferred row with this key yet (a second statement may find the same edge)."""
    found = inferred_io_t.alias("found")
    return ~(
        select(found.c.run_uuid)
        .where(
            found.c.run_uuid == run_uuid,
            found.c.direction == direction,
            found.c.dataset_id == dataset_id,
            found.c.via_run_uuid == via,
        )
        .exists()
    )


@cache
def _task_dependency_insert(dialect: str, direction: str, nested: bool) -> Executable:
    """``INSERT`` of ``_task_dependency_edges`` for the runs in the ``runs`` parameter (built
    once: building these statements costs more than running them)."""
    return _insert(_task_dependency_edges(dialect, _RUNS, direction, nested=nested))


@cache
def _parent_insert(direction: str, inherited: bool) -> Executable:
    """``INSERT`` of ``_parent_edges`` for the runs in the ``runs`` parameter (built once)."""
    return _insert(_parent_edges(_RUNS, direction, inherited=inherited))


def _task_dependency_edges(dialect: str, runs: Any, direction: str, *, nested: bool) -> Select[Any]:
    """Edges of ``direction`` for task runs in ``runs`` that declare none, from what their
    neighbour tasks' runs declared themselves (``nested``: what the runs under them declared).
    Each join is an index probe: runs by parent, facets and ``run_io`` by run."""
    source_direction, own_list, their_list = _NEIGHBOURS[direction]
    # The chunk's task runs first, materialised: planners otherwise tend to start from run_io.
    runs_facet = run_facets_t.alias("task_facet")
    task_body = facet_contents_t.alias("task_body")
    task = (
        select(
            runs_t.c.uuid,
            runs_t.c.job_id,
            runs_t.c.parent_run_uuid,
            _task_field(task_body.c.body, own_list).label("own_ids"),
            _task_field(task_body.c.body, "task_id").label("task_id"),
        )
        .join(
            runs_facet, and_(runs_facet.c.run_uuid == runs_t.c.uuid, runs_facet.c.key == "airflow")
        )
        .join(task_body, task_body.c.digest == runs_facet.c.facet_digest)
        .where(runs_t.c.uuid.in_(runs), runs_t.c.parent_run_uuid.is_not(None))
        .cte("task")
        .prefix_with("MATERIALIZED")
    )
    other = runs_t.alias("other")
    other_facet = run_facets_t.alias("other_facet")
    other_body = facet_contents_t.alias("other_body")
    own_ids, own_id = task.c.own_ids, task.c.task_id
    their_ids = _task_field(other_body.c.body, their_list)
    other_id = _task_field(other_body.c.body, "task_id")
    query = (
        select(
            task.c.uuid,
            literal(direction),
            run_io_t.c.dataset_id,
            other.c.uuid,
            task.c.job_id,
            task.c.parent_run_uuid,
            literal(TASK_DEPENDENCY),
        )
        .select_from(task)
        .join(
            other,
            and_(other.c.parent_run_uuid == task.c.parent_run_uuid, other.c.uuid != task.c.uuid),
        )
        .join(
            other_facet,
            and_(other_facet.c.run_uuid == other.c.uuid, other_facet.c.key == "airflow"),
        )
        .join(other_body, other_body.c.digest == other_facet.c.facet_digest)
    )
    if nested:
        child = runs_t.alias("child")
        query = query.join(child, child.c.parent_run_uuid == other.c.uuid).join(
            run_io_t,
            and_(run_io_t.c.run_uuid == child.c.uuid, run_io_t.c.direction == source_direction),
        )
        query = query.where(_not_yet(task.c.uuid, direction, run_io_t.c.dataset_id, other.c.uuid))
        query = query.distinct()
    else:
        query = query.join(
            run_io_t,
            and_(run_io_t.c.run_uuid == other.c.uuid, run_io_t.c.direction == source_direction),
        )
    return query.where(
        or_(_names(dialect, own_ids, other_id), _names(dialect, their_ids, own_id)),
        ~_declares(task.c.uuid, direction),
    )


def _parent_edges(runs: Any, direction: str, *, inherited: bool) -> Select[Any]:
    """Edges of ``direction`` for nested runs in ``runs`` that declare none, from their parent's
    declared edges (``inherited``: from the parent's inferred ones)."""
    child, parent = runs_t.alias("nested"), runs_t.alias("parent")
    source = inferred_io_t if inherited else run_io_t
    mine = run_io_t.alias("own_io")
    own = select(mine.c.run_uuid).where(
        mine.c.run_uuid == child.c.uuid, mine.c.direction == direction
    )
    query = (
        select(
            child.c.uuid,
            literal(direction),
            source.c.dataset_id,
            child.c.parent_run_uuid,
            child.c.job_id,
            parent.c.parent_run_uuid,
            literal(PARENT),
        )
        .select_from(child)
        .join(parent, parent.c.uuid == child.c.parent_run_uuid)
        .join(
            source,
            and_(source.c.run_uuid == child.c.parent_run_uuid, source.c.direction == direction),
        )
        .where(child.c.uuid.in_(runs), ~own.exists())
    )
    if inherited:  # several inferred edges of the parent may name one dataset
        query = query.where(
            _not_yet(child.c.uuid, direction, source.c.dataset_id, child.c.parent_run_uuid)
        ).distinct()
    return query


def _task_field(facet: Any, name: str) -> ColumnElement[str]:
    """``facet.task.<name>`` as text (a JSON list comes back as its JSON text)."""
    field: ColumnElement[str] = facet[("task", name)].as_string()
    return field


def _names(
    dialect: str, id_list: ColumnElement[str], task_id: ColumnElement[str]
) -> ColumnElement[bool]:
    """``task_id`` is one of the ids in ``id_list`` (a JSON list or a Python list repr)."""
    position = func.strpos if dialect == "postgresql" else func.instr
    quoted = [quote + task_id + quote for quote in ("'", '"')]
    return or_(*(position(id_list, needle) > 0 for needle in quoted))


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
