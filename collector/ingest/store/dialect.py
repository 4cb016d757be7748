"""Dialect mechanics of the projection: how a set of rows reaches PostgreSQL or SQLite.

One interface, two implementations (the seam Prefect's ``query_components`` draws): the family
modules build dialect-neutral statements and hand rows to a ``RowWriter``, which ships them the
cheapest way its database allows. On PostgreSQL the rows travel as one JSON document expanded by
``jsonb_to_recordset`` (one bind parameter whatever the row count); on SQLite they are bind
parameters of an executemany. Nothing here knows what the rows mean.

Also here: the SQL expressions both databases evaluate the same way (``newer``, ``least``,
``greatest``), shared by the family modules' ``ON CONFLICT`` clauses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import cache
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Executable,
    Table,
    Text,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

from mllineage.collector.db.types import PreSerialized

CHUNK = 400
T = TypeVar("T")

#: Adds ``ON CONFLICT``/``RETURNING`` to a plain ``INSERT``; ``None`` adds nothing. Statements
#: are cached per clause, so clauses must be module-level functions or cached factories.
Clause = Callable[[postgresql.Insert], Executable] | None

#: Builds a statement from the columns of a staged row set (see ``RowWriter.execute_from``).
SourceStatement = Callable[[Any], Executable]


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size`` (bounded ``IN`` lists)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RowWriter:
    """Ships row sets to the database on ``conn``; ``for_connection`` picks the implementation.

    Contract shared by both implementations: ``rows`` are non-empty and all have the same keys;
    nothing is committed; statements are built once per shape and cached.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @staticmethod
    def for_connection(conn: Connection) -> RowWriter:
        if conn.dialect.name == "postgresql":
            return PostgresRowWriter(conn)
        return SqliteRowWriter(conn)

    def write(
        self, table: Table, rows: list[dict[str, Any]], clause: Clause = None
    ) -> list[tuple[Any, ...]]:
        """Insert ``rows`` into ``table`` with what ``clause`` adds; the ``RETURNING`` rows."""
        raise NotImplementedError

    def execute_from(
        self, source: Table, rows: list[dict[str, Any]], build: SourceStatement
    ) -> None:
        """Run ``build(columns)`` once per row, set-based; ``columns`` are those of ``source``
        (the shape of ``rows``)."""
        raise NotImplementedError

    def lookup_ids(
        self, table: Table, columns: tuple[str, str], keys: Sequence[tuple[int, str]]
    ) -> dict[tuple[int, str], int]:
        """``id`` of each row of ``table`` whose two ``columns`` equal a key (missing: absent)."""
        first, second = table.c[columns[0]], table.c[columns[1]]
        found: dict[tuple[int, str], int] = {}
        for chunk in chunks(keys):
            query = select(first, second, table.c.id).where(tuple_(first, second).in_(chunk))
            found.update({(a, b): id_ for a, b, id_ in self.conn.execute(query)})
        return found


class PostgresRowWriter(RowWriter):
    """Row sets as one ``jsonb_to_recordset`` parameter: a fraction of the cost of a many-row
    ``VALUES`` statement or ``executemany``."""

    def write(
        self, table: Table, rows: list[dict[str, Any]], clause: Clause = None
    ) -> list[tuple[Any, ...]]:
        statement = _recordset_insert(table, tuple(rows[0]), clause)
        result = self.conn.execute(statement, {"rows": rows_json(rows)})
        return [tuple(row) for row in result] if result.returns_rows else []

    def execute_from(
        self, source: Table, rows: list[dict[str, Any]], build: SourceStatement
    ) -> None:
        statement = _recordset_statement(source, tuple(rows[0]), build)
        self.conn.execute(statement, {"rows": rows_json(rows)})

    def lookup_ids(
        self, table: Table, columns: tuple[str, str], keys: Sequence[tuple[int, str]]
    ) -> dict[tuple[int, str], int]:
        """One join against ``unnest`` of two arrays."""
        first, second = table.c[columns[0]], table.c[columns[1]]
        keyset = (
            func.unnest(
                bindparam("k1", [k[0] for k in keys], type_=postgresql.ARRAY(BigInteger)),
                bindparam("k2", [k[1] for k in keys], type_=postgresql.ARRAY(Text)),
            )
            .table_valued("a", "b")
            .render_derived()
        )
        query = select(first, second, table.c.id).join(
            keyset, and_(first == keyset.c.a, second == keyset.c.b)
        )
        return {(a, b): id_ for a, b, id_ in self.conn.execute(query)}


class SqliteRowWriter(RowWriter):
    """Row sets as executemany bind parameters (chunked ``IN`` lists for lookups)."""

    def write(
        self, table: Table, rows: list[dict[str, Any]], clause: Clause = None
    ) -> list[tuple[Any, ...]]:
        result = self.conn.execute(_sqlite_insert(table, clause), rows)
        return [tuple(row) for row in result] if result.returns_rows else []

    def execute_from(
        self, source: Table, rows: list[dict[str, Any]], build: SourceStatement
    ) -> None:
        statement = _bound_statement(source, build)
        self.conn.execute(statement, [{f"b_{k}": v for k, v in r.items()} for r in rows])


@cache
def _sqlite_insert(table: Table, clause: Clause) -> Executable:
    statement = cast(postgresql.Insert, sqlite.insert(table))
    return clause(statement) if clause else statement


@cache
def _recordset_insert(table: Table, columns: tuple[str, ...], clause: Clause) -> Executable:
    """``INSERT INTO table (columns) SELECT columns FROM jsonb_to_recordset(:rows)`` + clause."""
    source = _recordset(table, columns)
    statement = postgresql.insert(table).from_select(columns, select(*source.c))
    return clause(statement) if clause else statement


@cache
def _bound_statement(source: Table, build: SourceStatement) -> Executable:
    return build(_BindSource(source))


@cache
def _recordset_statement(
    source: Table, columns: tuple[str, ...], build: SourceStatement
) -> Executable:
    return build(_recordset(source, columns).c)


@cache
def recordset(table: Table, columns: tuple[str, ...]) -> Any:
    """The PostgreSQL row source of ``write``: ``jsonb_to_recordset(:rows)`` typed like
    ``columns`` of ``table`` (feed it ``rows_json(rows)`` as ``rows``)."""
    return _recordset(table, columns)


@cache
def _recordset(table: Table, columns: tuple[str, ...]) -> Any:
    """``jsonb_to_recordset(:rows) AS r(column type, ...)`` shaped like ``columns`` of ``table``;
    one object per shape, so SQLAlchemy's statement cache hits."""
    return (
        func.jsonb_to_recordset(bindparam("rows", type_=postgresql.JSONB))
        .table_valued(*(Column(c, table.c[c].type) for c in columns))
        .render_derived(name="r", with_types=True)
    )


def rows_json(rows: list[dict[str, Any]]) -> PreSerialized:
    """``rows`` as one JSON array for ``jsonb_to_recordset``: bytes as bytea hex text, JSON
    already serialised (``PreSerialized``) embedded as is, datetimes as RFC 3339 (naive = UTC)."""
    return PreSerialized(
        orjson.dumps(
            rows,
            default=_json_default,
            option=orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_NAIVE_UTC,
        ).decode()
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, PreSerialized):
        return orjson.Fragment(str.__str__(value))
    if isinstance(value, str):
        return str.__str__(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


class _BindSource:
    """Stands in for a staged ``source`` table: ``.x`` is the typed bind parameter ``b_x``."""

    def __init__(self, source: Table) -> None:
        self._source = source

    def __getattr__(self, name: str) -> Any:
        return bindparam(f"b_{name}", type_=self._source.c[name].type)


# -- clauses and expressions both databases evaluate alike ----------------------------------------


@cache
def do_nothing_on(*index_elements: str) -> Clause:
    """``ON CONFLICT (index_elements) DO NOTHING`` (any conflict when none are named)."""

    def clause(stmt: postgresql.Insert) -> Executable:
        return stmt.on_conflict_do_nothing(index_elements=list(index_elements) or None)

    return clause


def newer(new: Any, old: Any) -> Any:
    """``(event_time, event_hash)`` of ``new`` is greater: the arrival-order-free "latest"."""
    return tuple_(new.event_time, new.event_hash) > tuple_(old.event_time, old.event_hash)


def bind(name: str, type_: Any = None) -> Any:
    return bindparam(name, type_=type_)


def case_(condition: ColumnElement[bool], then: Any, otherwise: Any) -> Any:
    return case((condition, then), else_=otherwise)


def least(new: Any, old: Any) -> Any:
    """The smaller of two nullable values (NULL loses), the same on PostgreSQL and SQLite."""
    return case_(and_(new.is_not(None), or_(old.is_(None), new < old)), new, old)


def greatest(new: Any, old: Any) -> Any:
    """The larger of two nullable values (NULL loses)."""
    return case_(and_(new.is_not(None), or_(old.is_(None), new > old)), new, old)


def stamp_columns(stamp: tuple[Any, bytes]) -> dict[str, Any]:
    """``event_time``/``event_hash`` columns of a row from a fold's ``(time, hash)`` stamp."""
    return {"event_time": stamp[0], "event_hash": stamp[1]}
