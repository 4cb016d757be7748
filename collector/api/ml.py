"""ML and governance questions (``/api/v1/ml/...``): thin routes over ``queries.ml_*``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from mllineage.collector.api.auth import require_scope
from mllineage.collector.api.reads import (
    NodeIdParam,
    PageParams,
    TraversalOptions,
    answer_response,
    consistency_param,
    read_connection,
)
from mllineage.collector.api.visibility import VisibleRoute, check_target
from mllineage.collector.queries import (
    ml_discovery,
    ml_features,
    ml_governance,
    ml_impact,
    ml_model,
    ml_quality,
)
from mllineage.collector.schemas.lineage import Answer, PagedAnswer
from mllineage.collector.schemas.ml import (
    AuditRow,
    ChainRow,
    FeatureGroupRow,
    FeatureLineageRow,
    ImpactRow,
    LineageRow,
    ModelRow,
    QualityRow,
    SourceRow,
    TaggedRow,
)

router = APIRouter(
    prefix="/api/v1/ml",
    tags=["ml"],
    dependencies=[
        Depends(require_scope("read")),
        Depends(check_target),
        Depends(consistency_param),
    ],
    route_class=VisibleRoute,
)

DirectionParam = Literal["upstream", "downstream", "both"]
VersionParam = Annotated[
    str | None, Query(description="Model version (default: the #version in nodeId, else newest)")
]


@router.get("/lineage", response_model=Answer[LineageRow])
def lineage(
    request: Request,
    node_id: NodeIdParam,
    options: TraversalOptions,
    direction: DirectionParam = "both",
) -> Response:
    """Every node reachable from ``nodeId`` in ``direction``, with its hop distance and path."""
    with read_connection(request) as conn:
        answer = ml_discovery.lineage(conn, node_id=node_id, direction=direction, options=options)
    return answer_response(answer)


@router.get("/sources", response_model=Answer[SourceRow])
def sources(request: Request, node_id: NodeIdParam, options: TraversalOptions) -> Response:
    """The raw data sources a feature group (or any node) is built from."""
    with read_connection(request) as conn:
        answer = ml_discovery.sources(conn, node_id=node_id, options=options)
    return answer_response(answer)


@router.get("/feature-groups", response_model=Answer[FeatureGroupRow])
def feature_groups(
    request: Request,
    node_id: NodeIdParam,
    options: TraversalOptions,
    direction: DirectionParam = "both",
) -> Response:
    """Feature groups built from a source (downstream) or that a model depends on (upstream)."""
    with read_connection(request) as conn:
        answer = ml_discovery.feature_groups(
            conn, node_id=node_id, direction=direction, options=options
        )
    return answer_response(answer)


@router.get("/models", response_model=Answer[ModelRow])
def models(
    request: Request,
    node_id: NodeIdParam,
    options: TraversalOptions,
    direction: DirectionParam = "downstream",
) -> Response:
    """Models (with versions) reachable from a node, and the endpoints serving them."""
    with read_connection(request) as conn:
        answer = ml_discovery.models(conn, node_id=node_id, direction=direction, options=options)
    return answer_response(answer)


@router.get("/model-lineage", response_model=Answer[ChainRow])
def model_lineage(
    request: Request,
    node_id: NodeIdParam,
    options: TraversalOptions,
    version: VersionParam = None,
) -> Response:
    """The whole chain of one model version, source to endpoint, pinned to exact versions."""
    with read_connection(request) as conn:
        answer = ml_model.model_lineage(
            conn, node_id=node_id, version_name=version, options=options
        )
    return answer_response(answer)


@router.get("/impact", response_model=PagedAnswer[ImpactRow])
def impact(
    request: Request, node_id: NodeIdParam, options: TraversalOptions, page: PageParams
) -> Response:
    """Everything downstream, grouped by kind, with owners and last run, one page of rows at a
    time (``limit``/``offset``; ``total_count`` counts them all)."""
    with read_connection(request) as conn:
        answer = ml_impact.impact(conn, node_id=node_id, options=options, page=page)
    return answer_response(answer)


@router.get("/governance/tagged", response_model=PagedAnswer[TaggedRow])
def governance_tagged(
    request: Request,
    options: TraversalOptions,
    page: PageParams,
    tag: Annotated[
        str, Query(min_length=1, description="Tag key (any non-negative value) or key:value")
    ] = "pii",
) -> Response:
    """Every model/endpoint with a dataset or column carrying ``tag`` upstream (a set query),
    one page of rows at a time (``limit``/``offset``; ``total_count`` counts them all)."""
    with read_connection(request) as conn:
        answer = ml_governance.tagged(
            conn, tag=tag, options=options, scope=options.scope, page=page
        )
    return answer_response(answer)


@router.get("/governance/quality", response_model=PagedAnswer[QualityRow])
def governance_quality(
    request: Request,
    options: TraversalOptions,
    page: PageParams,
    status: Annotated[
        ml_quality.Wanted,
        Query(description="failed: failing checks; warning: failing or warning checks"),
    ] = "failed",
) -> Response:
    """Every model/endpoint downstream of a dataset whose latest data-quality checks fail, with
    the failing assertions and a path (a set query, paged like ``governance/tagged``)."""
    with read_connection(request) as conn:
        answer = ml_quality.quality(
            conn, status=status, options=options, scope=options.scope, page=page
        )
    return answer_response(answer)


@router.get("/audit", response_model=Answer[AuditRow])
def audit(request: Request, node_id: NodeIdParam, version: VersionParam = None) -> Response:
    """Audit record of a model version: producing run, input versions, code, params, events."""
    with read_connection(request) as conn:
        answer = ml_model.audit(conn, node_id=node_id, version_name=version)
    return answer_response(answer)


@router.get("/feature-lineage", response_model=Answer[FeatureLineageRow])
def feature_lineage(request: Request, node_id: NodeIdParam, options: TraversalOptions) -> Response:
    """Source columns behind a feature (``datasetField:`` node) and the models consuming it."""
    with read_connection(request) as conn:
        answer = ml_features.feature_lineage(conn, node_id=node_id, options=options)
    return answer_response(answer)
