"""Where PostgreSQL and SQLite differ on the read side, in one place.

Query modules ask ``read_dialect(conn)`` instead of branching on ``conn.dialect.name``: one
implementation per database (``PostgresReads``, ``SQLiteReads``) answers how a read connection
is prepared, how ``column IN values`` takes its values as one parameter, and how a column is
aggregated into an array. (The model is Prefect server's ``database/query_components.py``.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import orjson
from sqlalchemy import ARRAY, Connection, Select, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY
from sqlalchemy.sql import ColumnElement


class ReadDialect:
    """The read-side operations whose SQL or set-up differs between the databases."""

    name: ClassVar[str]

    def prepare(self, conn: Connection) -> None:
        """Set up a connection for one request's reads (before its first statement)."""

    def member_filter(self, column: Any, values: Any) -> ColumnElement[bool]:
        """``column IN values`` for ``values``, a text parameter holding ``members(...)``."""
        raise NotImplementedError

    def members(self, values: Sequence[Any]) -> str:
        """The text parameter ``member_filter`` reads, for ``values`` (ints or strings)."""
        raise NotImplementedError

    def array_agg(self, column: Any) -> Any:
        """An aggregate of ``column`` into one array value (read back by ``array``); every
        ``array_agg`` of one statement sees the rows in the same order."""
        raise NotImplementedError

    def array(self, value: Any) -> list[Any]:
        """The list behind a value ``array_agg`` returned (empty for no rows)."""
        raise NotImplementedError


class PostgresReads(ReadDialect):
    """PostgreSQL: id sets as array literals unnested into a semi-join, reads in autocommit."""

    name = "postgresql"

    def prepare(self, conn: Connection) -> None:
        """Planner settings once per pooled connection (committed on their own, before any
        read), then autocommit:

        - ``jit = off``: reads are index lookups and short scans; once a plan's estimated cost
          passes ``jit_above_cost`` (sequential scans of large tables do), compiling it took
          ~0.9 s for a statement that then ran in 0.1 s.
        - ``plan_cache_mode = force_custom_plan``: psycopg prepares a statement after a few runs,
          and PostgreSQL then may switch it to a generic plan, blind to the id arrays our
          statements take; such plans were the slow tail of model lineage at 1M events (p99
          84-407 ms in process, 38-68 ms with custom plans, which cost ~0.2 ms of planning each).
        - autocommit: under READ COMMITTED every statement takes its own snapshot inside a
          transaction too, so a transaction would only add a ``BEGIN`` and a ``ROLLBACK`` round
          trip per request.
        """
        if not conn.connection.info.get("read_settings"):
            conn.exec_driver_sql("SET jit = off")
            conn.exec_driver_sql("SET plan_cache_mode = force_custom_plan")
            conn.commit()
            conn.connection.info["read_settings"] = True
        conn.execution_options(isolation_level="AUTOCOMMIT")

    def member_filter(self, column: Any, values: Any) -> ColumnElement[bool]:
        """``column IN (SELECT unnest(CAST(:values AS type[])))``: index lookups per value, where
        ``= ANY(array)`` over a non-constant array would compare every row with every value."""
        array_type: ARRAY[Any] = PG_ARRAY(column.type)
        unnested: Select[Any] = select(func.unnest(cast(values, array_type)))
        return column.in_(unnested)  # type: ignore[no-any-return]

    def members(self, values: Sequence[Any]) -> str:
        """A PostgreSQL array literal (``{1,2}``, ``{"a","b"}``) of ints or strings.

        Sent as one text parameter and cast server-side: psycopg's array dumper adapts element
        by element in Python, which costs more than the query itself for thousands of ids.
        """
        if all(type(v) is int for v in values):
            return "{" + ",".join(map(str, values)) + "}"
        return "{" + ",".join('"' + _escape(str(v)) + '"' for v in values) + "}"

    def array_agg(self, column: Any) -> Any:
        return func.array_agg(column)

    def array(self, value: Any) -> list[Any]:
        return value or []


class SQLiteReads(ReadDialect):
    """SQLite: id sets as JSON arrays read by ``json_each``; reads keep their transaction (it is
    what makes the statements of one answer read one snapshot)."""

    name = "sqlite"

    def member_filter(self, column: Any, values: Any) -> ColumnElement[bool]:
        members: Select[Any] = select(literal_column("value")).select_from(func.json_each(values))
        return column.in_(members)  # type: ignore[no-any-return]

    def members(self, values: Sequence[Any]) -> str:
        return orjson.dumps(list(values)).decode()

    def array_agg(self, column: Any) -> Any:
        return func.json_group_array(column)

    def array(self, value: Any) -> list[Any]:
        return orjson.loads(value) if value else []


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


_DIALECTS: dict[str, ReadDialect] = {d.name: d for d in (PostgresReads(), SQLiteReads())}


def read_dialect(conn: Connection) -> ReadDialect:
    """The read-side operations for ``conn``'s database."""
    return _DIALECTS[conn.dialect.name]
