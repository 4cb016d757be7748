"""The overview, node search and node events reads (``/api/v1/ml/...``): thin routes over
``queries.overview`` and ``queries.node_events``."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from mllineage.collector.api.auth import require_scope
from mllineage.collector.api.reads import KINDS_PATTERN, MAX_OFFSET, NodeIdParam, read_connection
from mllineage.collector.api.visibility import VisibleRoute, check_target
from mllineage.collector.queries import node_events, overview
from mllineage.collector.queries.ml_common import parse_kinds
from mllineage.collector.schemas import overview as schemas

router = APIRouter(
    prefix="/api/v1/ml",
    tags=["ml"],
    dependencies=[Depends(require_scope("read")), Depends(check_target)],
    route_class=VisibleRoute,
)


@router.get("/overview", response_model=schemas.Overview)
def get_overview(
    request: Request,
    failed_limit: Annotated[
        int, Query(alias="failedLimit", ge=0, le=1_000, description="Failed runs to list.")
    ] = 10,
) -> Response:
    """Nodes per kind and the latest failed runs."""
    with read_connection(request) as conn:
        answer = overview.overview(conn, failed_limit=failed_limit)
    return _json(answer)


@router.get("/search", response_model=schemas.NodeSearch)
def search_nodes(
    request: Request,
    q: Annotated[
        str,
        Query(
            min_length=1, description="Substring of the name or namespace; % and _ are wildcards"
        ),
    ],
    kinds: Annotated[
        str | None,
        Query(
            description="Comma-separated kinds: dataset,feature_group,model,endpoint,job",
            pattern=KINDS_PATTERN,
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    """Datasets (with their kind) and jobs whose name or namespace contains ``q``."""
    with read_connection(request) as conn:
        answer = overview.search_nodes(
            conn, q=q, kinds=parse_kinds(kinds), limit=limit, offset=offset
        )
    return _json(answer)


@router.get("/events", response_model=schemas.NodeEvents)
def get_node_events(
    request: Request,
    node_id: NodeIdParam,
    limit: Annotated[int, Query(ge=1, le=1_000, description="Events to return.")] = 50,
) -> Response:
    """The raw OpenLineage events behind a node, newest first (see ``queries.node_events``)."""
    with read_connection(request) as conn:
        events = node_events.node_events(conn, node_id=node_id, limit=limit)
    return _json(schemas.NodeEvents(events=events))


def _json(answer: object) -> Response:
    """The answer (an instance of the declared response model) as JSON; UTC times end in Z."""
    body = orjson.dumps(answer, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC)
    return Response(content=body, media_type="application/json")
