"""What the read routes share: a read-only connection and the traversal query parameters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from mllineage.collector.errors import DatabaseUnavailable
from mllineage.collector.queries.graph_view import DEFAULT_PAGE_LIMIT, Answer, Page
from mllineage.collector.queries.ml_common import Edges, Options, Scope, parse_kinds
from mllineage.collector.queries.traversal import DEFAULT_MAX_NODES

MAX_DEPTH = 1_000
MAX_NODES = 100_000
MAX_LIMIT = 1_000_000


@contextmanager
def read_connection(request: Request) -> Iterator[Connection]:
    """A connection for one request's reads (never committed); an unreachable database is 503.

    On PostgreSQL the reads run in autocommit: under READ COMMITTED every statement takes its
    own snapshot inside a transaction too, so a transaction would only add a ``BEGIN`` and a
    ``ROLLBACK`` round trip per request. (SQLite keeps its transaction: there it is what makes
    the statements of one answer read one snapshot.)"""
    try:
        with request.app.state.engine.connect() as conn:
            _read_settings(conn)
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(reason, request.app.state.settings.retry_after_seconds) from exc


def _read_settings(conn: Connection) -> None:
    """Planner settings for reads, once per pooled PostgreSQL connection (committed on their own,
    before any read):

    - ``jit = off``: reads are index lookups and short scans; once a plan's estimated cost passes
      ``jit_above_cost`` (sequential scans of large tables do), compiling it took ~0.9 s for a
      statement that then ran in 0.1 s.
    - ``plan_cache_mode = force_custom_plan``: psycopg prepares a statement after a few runs, and
      PostgreSQL then may switch it to a generic plan, blind to the id arrays our statements
      take; such plans were the slow tail of model lineage at 1M events (p99 84-407 ms in
      process, 38-68 ms with custom plans, which cost ~0.2 ms of planning each).
    """
    if conn.dialect.name != "postgresql" or conn.connection.info.get("read_settings"):
        return
    conn.exec_driver_sql("SET jit = off")
    conn.exec_driver_sql("SET plan_cache_mode = force_custom_plan")
    conn.commit()
    conn.connection.info["read_settings"] = True


def utc(value: datetime | None) -> datetime | None:
    """Naive timestamps in query parameters are read as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def traversal_options(
    depth: Annotated[
        int, Query(ge=0, le=MAX_DEPTH, description="Hops to walk (dataset -> job -> dataset = 2).")
    ] = 20,
    as_of: Annotated[
        datetime | None,
        Query(alias="asOf", description="Walk the graph as it stood at this time (ISO 8601)."),
    ] = None,
    kinds: Annotated[
        str | None,
        Query(
            description="Comma-separated kinds to report: dataset,feature_group,model,endpoint,job"
        ),
    ] = None,
    max_nodes: Annotated[
        int, Query(alias="maxNodes", ge=1, le=MAX_NODES, description="Node cap (sets truncated).")
    ] = DEFAULT_MAX_NODES,
    scope: Annotated[
        Scope,
        Query(
            description="current: the graph as it stands (each job's latest completed run), or "
            "as of asOf; versions: every version of the start and everything ever built from it "
            "(every model version, every endpoint deployment), each row naming its version "
            "('graph' = current)"
        ),
    ] = "current",
    edges: Annotated[
        Edges,
        Query(
            description="all: declared edges and edges inferred from orchestration (Airflow task "
            "dependencies, parent runs), marked inferred with their evidence; declared: only "
            "what producers declared"
        ),
    ] = "all",
) -> Options:
    return Options(
        depth=depth,
        as_of=utc(as_of),
        max_nodes=max_nodes,
        kinds=parse_kinds(kinds),
        scope=scope,
        edges=edges,
    )


TraversalOptions = Annotated[Options, Depends(traversal_options)]


def page_params(
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_LIMIT, description="Rows to return (total_count counts them all)."),
    ] = DEFAULT_PAGE_LIMIT,
    offset: Annotated[int, Query(ge=0, description="Rows to skip, in the answer's order.")] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


PageParams = Annotated[Page, Depends(page_params)]
NodeIdParam = Annotated[
    str,
    Query(
        alias="nodeId",
        description="dataset:<ns>:<name>[#version], job:<ns>:<name>, datasetField:…, run:<uuid>",
    ),
]


def answer_response(answer: Answer[Any]) -> Response:
    """Serialise an answer straight from its dataclasses (orjson; UTC times end in ``Z``).

    The routes still declare their pydantic response models (OpenAPI, clients); skipping their
    validation on the way out keeps large answers (tens of thousands of rows with paths) fast.
    The tests check every answer against the declared model.
    """
    body = orjson.dumps(answer, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC)
    return Response(content=body, media_type="application/json")
