"""Core table handles for read queries, and set-membership filters that scale on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Connection,
    Executable,
    Select,
    String,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.sql import ColumnElement

from mllineage.collector.db import models

namespaces_t: Table = models.Namespace.__table__  # type: ignore[assignment]
datasets_t: Table = models.Dataset.__table__  # type: ignore[assignment]
dataset_facets_t: Table = models.DatasetFacet.__table__  # type: ignore[assignment]
versions_t: Table = models.DatasetVersion.__table__  # type: ignore[assignment]
symlinks_t: Table = models.DatasetSymlink.__table__  # type: ignore[assignment]
tags_t: Table = models.DatasetTag.__table__  # type: ignore[assignment]
column_lineage_t: Table = models.ColumnLineage.__table__  # type: ignore[assignment]
jobs_t: Table = models.Job.__table__  # type: ignore[assignment]
job_facets_t: Table = models.JobFacet.__table__  # type: ignore[assignment]
static_io_t: Table = models.JobStaticIO.__table__  # type: ignore[assignment]
job_edges_t: Table = models.JobEdge.__table__  # type: ignore[assignment]
runs_t: Table = models.Run.__table__  # type: ignore[assignment]
run_facets_t: Table = models.RunFacet.__table__  # type: ignore[assignment]
run_io_t: Table = models.RunIO.__table__  # type: ignore[assignment]
events_t: Table = models.LineageEvent.__table__  # type: ignore[assignment]


def member_of(conn: Connection, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values`` with one bound parameter whatever the number of values.

    PostgreSQL gets an array (``= ANY(:values)``); SQLite a JSON array read by ``json_each``. A
    single parameter keeps statements cacheable and cheap to compile, and never runs into
    SQLite's limit on bound parameters.
    """
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY

        array_type: ARRAY[Any] = PG_ARRAY(column.type)
        return column == any_(bindparam(None, list(values), type_=array_type))  # type: ignore[no-any-return]
    members: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, orjson.dumps(list(values)).decode(), type_=String()))
    )
    return column.in_(members)  # type: ignore[no-any-return]


def fetch_in(
    conn: Connection,
    column: Any,
    values: Iterable[Any],
    build: Callable[[ColumnElement[bool]], Executable],
) -> list[Any]:
    """Run ``build(column IN values)`` and return all rows; empty ``values`` runs nothing.

    Rows are SQLAlchemy ``Row`` tuples, typed ``Any`` so that callers can unpack them.
    """
    ordered = list(dict.fromkeys(values))
    if not ordered:
        return []
    return list(conn.execute(build(member_of(conn, column, ordered))).all())
