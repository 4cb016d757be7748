"""Set-membership filters (``column IN values``) that scale on both databases, and ``fetch_in``, which
runs a statement built around one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Connection,
    Executable,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.sql import ColumnElement


def member_of(conn: Connection, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values`` with one bound parameter whatever the number of values.

    PostgreSQL gets an array literal unnested into a semi-join (``IN (SELECT unnest(:values))``:
    index lookups per value, where ``= ANY(array)`` over a non-constant array would compare every
    row with every value); SQLite a JSON array read by ``json_each``. A single parameter keeps
    statements cacheable and cheap to compile, and never runs into SQLite's limit on bound
    parameters.
    """
    return _member_filter(conn, column, bindparam(None, _members(conn, values), type_=String()))


def _member_filter(conn: Connection, column: Any, values: Any) -> ColumnElement[bool]:
    """``column IN values`` for a text parameter made by ``_members``."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY

        array_type: ARRAY[Any] = PG_ARRAY(column.type)
        unnested: Select[Any] = select(func.unnest(cast(values, array_type)))
        return column.in_(unnested)  # type: ignore[no-any-return]
    members: Select[Any] = select(literal_column("value")).select_from(func.json_each(values))
    return column.in_(members)  # type: ignore[no-any-return]


def _members(conn: Connection, values: Sequence[Any]) -> str:
    """The text parameter ``_member_filter`` reads: an array literal, or a JSON array."""
    if conn.dialect.name == "postgresql":
        return _array_literal(values)
    return orjson.dumps(list(values)).decode()


def _array_literal(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal (``{1,2}``, ``{"a","b"}``) of ints or strings.

    Sent as one text parameter and cast server-side: psycopg's array dumper adapts element by
    element in Python, which costs more than the query itself for thousands of ids.
    """
    if all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join('"' + _escape(str(v)) + '"' for v in values) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def fetch_in(
    conn: Connection,
    column: Any,
    values: Iterable[Any],
    build: Callable[[ColumnElement[bool]], Executable],
) -> list[Any]:
    """Run ``build(column IN values)`` and return all rows; empty ``values`` runs nothing.

    Rows are SQLAlchemy ``Row`` tuples, typed ``Any`` so that callers can unpack them.

    The statement is built once per ``build`` (its code and the plain values it closes over:
    ``_CACHEABLE`` types) with the members as a named parameter, and reused: building a
    statement and computing its cache key cost SQLAlchemy ~0.7 ms, about twice what PostgreSQL
    spends on a primary-key lookup. Builders closing over anything else (objects, expressions)
    are built on every call.
    """
    ordered = list(dict.fromkeys(values))
    if not ordered:
        return []
    key = _statement_key(conn, column, build)
    if key is None:
        return list(conn.execute(build(member_of(conn, column, ordered))).all())
    statement = _STATEMENTS.get(key)
    if statement is None:
        if len(_STATEMENTS) >= _MAX_STATEMENTS:
            _STATEMENTS.clear()
        members = bindparam(_MEMBERS, type_=String())
        statement = _STATEMENTS[key] = build(_member_filter(conn, column, members))
    return list(conn.execute(statement, {_MEMBERS: _members(conn, ordered)}).all())


_MEMBERS = "fetch_in_members"
_MAX_STATEMENTS = 1024
_STATEMENTS: dict[tuple[Any, ...], Executable] = {}
_CACHEABLE = (bool, int, float, str, bytes, type(None), datetime)


def _statement_key(
    conn: Connection, column: Any, build: Callable[..., Any]
) -> tuple[Any, ...] | None:
    """What the statement ``build`` makes depends on: its code, the values it closes over (only
    plain immutable values qualify), the filtered column and the dialect; None if not cacheable."""
    code = getattr(build, "__code__", None)
    if code is None or getattr(build, "__defaults__", None):
        return None
    captured = tuple(cell.cell_contents for cell in getattr(build, "__closure__", None) or ())
    if not all(isinstance(value, _CACHEABLE) for value in captured):
        return None
    return (code, captured, column, conn.dialect.name)
