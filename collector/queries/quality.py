"""Data quality of datasets: their latest assertions (``dataQualityAssertions``) and profile
(``dataQualityMetrics``), wherever the producer put them.

Producers place the same facet differently: dbt-ol sends a test's assertions on the tested model
as an input with the facet in both ``facets`` and ``inputFacets``; Airflow's SQL check operators
as an input facet of the checked table; some producers on an output, or as a *run* facet. Every
placement is read and attributed to a dataset: a dataset or input/output facet to that dataset, a
run facet to the run's inputs (the checked tables), or to its outputs when it read nothing.

The latest placement wins per dataset, by ``(event time, event hash)`` of the event that set it
(a dataset facet and an input facet set by the same event: the one naming the run wins), so the
answer does not depend on arrival order. An assertion fails when ``success`` is false; it only
warns when its ``severity`` is ``warn`` (dbt's ``severity: warn`` tests). A dataset's status is
``failed`` if any assertion fails, else ``warning`` if any warns, else ``passed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Boolean, Connection, Select, and_, func, literal, or_, select
from sqlalchemy.sql import ColumnElement

from mllineage.collector.db.facet_bodies import body_of
from mllineage.collector.db.models import QUALITY_FACETS
from mllineage.collector.db.tables import dataset_facets_t, run_facets_t, run_io_t
from mllineage.collector.schemas.ml import AssertionResult

ASSERTIONS, METRICS = QUALITY_FACETS

Status = Literal["passed", "warning", "failed"]
Placement = Literal["dataset", "input", "output", "run"]
_RANK: dict[Placement, int] = {"dataset": 0, "run": 1, "output": 2, "input": 3}
_CHUNK = 400


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a facet was read: the event that set it and its run (None: a DatasetEvent)."""

    placement: Placement
    event_time: datetime
    event_hash: bytes
    run_uuid: str | None


@dataclass(frozen=True, slots=True)
class Checks:
    """A dataset's latest assertions."""

    status: Status
    assertions: list[AssertionResult]
    evidence: Evidence

    @property
    def failing(self) -> list[AssertionResult]:
        return [a for a in self.assertions if a.status != "passed"]


@dataclass(frozen=True, slots=True)
class Profile:
    """A dataset's latest profile (the ``dataQualityMetrics`` facet minus its metadata)."""

    metrics: dict[str, Any]
    evidence: Evidence


def latest_checks(conn: Connection, dataset_ids: Iterable[int] | None = None) -> dict[int, Checks]:
    """Latest assertions per dataset, for ``dataset_ids`` (``None``: every dataset with any)."""
    found: dict[int, Checks] = {}
    for dataset_id, (evidence, facet) in _latest(conn, ASSERTIONS, dataset_ids).items():
        results = [
            _result(item) for item in facet.get("assertions") or [] if isinstance(item, dict)
        ]
        found[dataset_id] = Checks(_status(results), results, evidence)
    return found


def latest_profiles(conn: Connection, dataset_ids: Iterable[int]) -> dict[int, Profile]:
    """Latest profile per dataset of ``dataset_ids``."""
    return {
        dataset_id: Profile({k: v for k, v in facet.items() if not k.startswith("_")}, evidence)
        for dataset_id, (evidence, facet) in _latest(conn, METRICS, dataset_ids).items()
    }


def _latest(
    conn: Connection, key: str, dataset_ids: Iterable[int] | None
) -> dict[int, tuple[Evidence, dict[str, Any]]]:
    ids = None if dataset_ids is None else sorted(set(dataset_ids))
    best: dict[int, tuple[tuple[datetime, bytes, int], Evidence, dict[str, Any]]] = {}
    for dataset_id, evidence, facet in _candidates(conn, key, ids):
        if not isinstance(facet, dict):
            continue  # retracted (``_deleted``) or not an object
        rank = (evidence.event_time, evidence.event_hash, _RANK[evidence.placement])
        if dataset_id not in best or rank > best[dataset_id][0]:
            best[dataset_id] = (rank, evidence, facet)
    return {dataset_id: (evidence, facet) for dataset_id, (_, evidence, facet) in best.items()}


def _candidates(
    conn: Connection, key: str, ids: Sequence[int] | None
) -> Iterator[tuple[int, Evidence, Any]]:
    facets = dataset_facets_t
    io = run_io_t
    run_facet, attributed = run_facets_t, run_io_t.alias("attributed")
    in_io = _has_key(conn, io.c.facets, key)
    in_run = run_facet.c.key == quality_key(key)
    # Run I/O and run facets rarely carry the facet: one probe of their partial index each
    # (``models.quality_indexes``) spares the per-dataset statements when none does.
    io_holds = _any(conn, select(io.c.run_uuid).where(in_io))
    runs_hold = _any(conn, select(run_facet.c.run_uuid).where(in_run))
    queries: list[tuple[Select[Any], Any, Placement | None] | None] = [
        (
            select(
                facets.c.dataset_id,
                facets.c.event_time,
                facets.c.event_hash,
                body_of(facets.c.facet_digest),
            )
            .add_columns(_run_of_event(facets))
            .where(facets.c.key == key),
            facets.c.dataset_id,
            "dataset",
        ),
        (
            select(io.c.dataset_id, io.c.event_time, io.c.event_hash, io.c.facets[key])
            .add_columns(io.c.run_uuid, io.c.direction)
            .where(in_io),
            io.c.dataset_id,
            None,
        )
        if io_holds
        else None,
        (
            select(
                attributed.c.dataset_id,
                run_facet.c.event_time,
                run_facet.c.event_hash,
                body_of(run_facet.c.facet_digest),
                run_facet.c.run_uuid,
            )
            .join(attributed, attributed.c.run_uuid == run_facet.c.run_uuid)
            .where(in_run, _checked_side(attributed)),
            attributed.c.dataset_id,
            "run",
        )
        if runs_hold
        else None,
    ]
    for query, owner, placement in filter(None, queries):
        for chunk in _chunks(ids):
            bounded = query if chunk is None else query.where(owner.in_(chunk))
            for row in conn.execute(bounded):
                where: Placement = placement or ("input" if row[5] == "in" else "output")
                evidence = Evidence(where, row[1], bytes(row[2]), row[4])
                yield row[0], evidence, row[3]


def _any(conn: Connection, query: Select[Any]) -> bool:
    return conn.execute(query.limit(1)).first() is not None


def _run_of_event(facets: Any) -> Any:
    """The run whose event set a dataset facet (the dataset was one of its inputs or outputs)."""
    return (
        select(run_io_t.c.run_uuid)
        .where(run_io_t.c.dataset_id == facets.c.dataset_id)
        .where(run_io_t.c.event_hash == facets.c.event_hash)
        .order_by(run_io_t.c.run_uuid)
        .limit(1)
        .scalar_subquery()
    )


def _checked_side(io: Any) -> ColumnElement[bool]:
    """A run facet's assertions are about the run's inputs, or its outputs if it read nothing."""
    inputs = select(run_io_t.c.run_uuid).where(
        run_io_t.c.run_uuid == io.c.run_uuid, run_io_t.c.direction == "in"
    )
    side: ColumnElement[bool] = or_(
        io.c.direction == "in", and_(io.c.direction == "out", ~inputs.exists())
    )
    return side


def quality_key(value: str) -> Any:
    """A facet key (or JSON path) rendered as a constant in the SQL text, not a parameter: the
    partial indexes of ``models.quality_indexes`` are only used where the planner can prove their
    predicate, which needs the constant (SQLite never, PostgreSQL not in a generic plan)."""
    return literal(value, literal_execute=True)


def _has_key(conn: Connection, column: Any, key: str) -> ColumnElement[bool]:
    """``column`` (JSON) has ``key``, as ``models.quality_indexes`` states it."""
    if conn.dialect.name == "postgresql":
        has: ColumnElement[bool] = column.op("?", return_type=Boolean())(quality_key(key))
        return has
    present: ColumnElement[bool] = func.json_type(column, quality_key(f"$.{key}")).is_not(None)
    return present


def _chunks(ids: Sequence[int] | None) -> Iterator[Sequence[int] | None]:
    if ids is None:
        yield None
        return
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _result(item: dict[str, Any]) -> AssertionResult:
    severity = _text(item.get("severity"))
    if item.get("success") is True:
        status: Status = "passed"
    else:
        status = "warning" if (severity or "").lower() == "warn" else "failed"
    return AssertionResult(
        assertion=str(item.get("assertion") or ""),
        status=status,
        column=_text(item.get("column")) or None,
        severity=severity,
        name=_text(item.get("name")),
        expected=_text(item.get("expected")),
        actual=_text(item.get("actual")),
    )


def _status(results: list[AssertionResult]) -> Status:
    statuses = {r.status for r in results}
    if "failed" in statuses:
        return "failed"
    return "warning" if "warning" in statuses else "passed"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
