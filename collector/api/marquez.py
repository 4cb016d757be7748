"""Marquez-compatible reads under ``/api/v1``: same paths and response shapes as Marquez.

Namespaces and names hold ``/`` (``s3://bucket``, ``raw/clicks``), which clients percent-encode
(``%2F``). Starlette decodes the path before routing, so these routes match on the raw path instead
(``RawPathRoute``) and decode each parameter afterwards: ``%2F`` stays inside its segment.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Query, Request
from starlette.routing import Match
from starlette.types import Scope

from mllineage.collector.api import marquez_shapes as shapes
from mllineage.collector.api.auth import require_scope
from mllineage.collector.api.reads import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_OFFSET,
    NODE_ID_PATTERN,
    UtcTime,
    consistency_param,
    read_connection,
    utc,
)
from mllineage.collector.api.visibility import VisibleRoute, check_target
from mllineage.collector.errors import BadRequest
from mllineage.collector.queries import catalog, events, marquez_lineage, search
from mllineage.collector.queries.graph.walk import DEFAULT_MAX_NODES
from mllineage.collector.schemas import marquez as m


class RawPathRoute(VisibleRoute):
    """Routes on the still-encoded path so an encoded ``/`` never splits a path parameter."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raw = scope.get("raw_path")
        if scope.get("type") != "http" or not raw:
            return super().matches(scope)
        encoded = dict(scope)
        encoded["path"] = raw.decode("utf-8", "replace")
        match, child = super().matches(encoded)
        if match != Match.NONE and "path_params" in child:
            child["path_params"] = {k: unquote(v) for k, v in child["path_params"].items()}
        return match, child


router = APIRouter(
    prefix="/api/v1",
    tags=["marquez"],
    dependencies=[
        Depends(require_scope("read")),
        Depends(check_target),
        Depends(consistency_param),
    ],
    route_class=RawPathRoute,
)


def _any_case(*choices: str) -> str:
    """A pattern (ECMA regex, no inline flags) matching any of ``choices`` in any case, or ''."""

    def letters(word: str) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)

    return "^(" + "|".join(letters(c) for c in choices) + ")?$"


Limit = Annotated[int, Query(ge=0, le=10_000, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip")]


@router.get("/namespaces", response_model=m.NamespaceList)
def list_namespaces(request: Request, limit: Limit = 100, offset: Offset = 0) -> m.NamespaceList:
    with read_connection(request) as conn:
        page = catalog.list_namespaces(conn, limit=limit, offset=offset)
    return m.NamespaceList(
        namespaces=[shapes.namespace(n) for n in page.items], totalCount=page.total
    )


@router.get("/namespaces/{namespace}", response_model=m.Namespace)
def get_namespace(request: Request, namespace: str) -> m.Namespace:
    with read_connection(request) as conn:
        return shapes.namespace(catalog.get_namespace(conn, namespace))


@router.get("/namespaces/{namespace}/datasets", response_model=m.DatasetList)
def list_datasets(
    request: Request, namespace: str, limit: Limit = 100, offset: Offset = 0
) -> m.DatasetList:
    with read_connection(request) as conn:
        page = catalog.list_datasets(conn, namespace, limit=limit, offset=offset)
    return m.DatasetList(datasets=[shapes.dataset(d) for d in page.items], totalCount=page.total)


@router.get("/namespaces/{namespace}/datasets/{dataset}", response_model=m.Dataset)
def get_dataset(request: Request, namespace: str, dataset: str) -> m.Dataset:
    """A dataset; a symlink identifier (e.g. the Hive table of a Spark path) finds it too."""
    with read_connection(request) as conn:
        return shapes.dataset(catalog.get_dataset(conn, namespace, dataset))


@router.get(
    "/namespaces/{namespace}/datasets/{dataset}/versions", response_model=m.DatasetVersionList
)
def list_dataset_versions(
    request: Request, namespace: str, dataset: str, limit: Limit = 100, offset: Offset = 0
) -> m.DatasetVersionList:
    with read_connection(request) as conn:
        page = catalog.list_dataset_versions(conn, namespace, dataset, limit=limit, offset=offset)
    return m.DatasetVersionList(
        versions=[shapes.dataset_version(v) for v in page.items], totalCount=page.total
    )


@router.get(
    "/namespaces/{namespace}/datasets/{dataset}/versions/{version}",
    response_model=m.DatasetVersion,
)
def get_dataset_version(
    request: Request, namespace: str, dataset: str, version: str
) -> m.DatasetVersion:
    with read_connection(request) as conn:
        return shapes.dataset_version(
            catalog.get_dataset_version(conn, namespace, dataset, version)
        )


@router.get("/namespaces/{namespace}/jobs", response_model=m.JobList)
def list_jobs(
    request: Request, namespace: str, limit: Limit = 100, offset: Offset = 0
) -> m.JobList:
    with read_connection(request) as conn:
        page = catalog.list_jobs(conn, namespace, limit=limit, offset=offset)
    return m.JobList(jobs=[shapes.job(j) for j in page.items], totalCount=page.total)


@router.get("/namespaces/{namespace}/jobs/{job}", response_model=m.Job)
def get_job(request: Request, namespace: str, job: str) -> m.Job:
    with read_connection(request) as conn:
        return shapes.job(catalog.get_job(conn, namespace, job))


@router.get("/namespaces/{namespace}/jobs/{job}/runs", response_model=m.RunList)
def list_runs(
    request: Request, namespace: str, job: str, limit: Limit = 100, offset: Offset = 0
) -> m.RunList:
    with read_connection(request) as conn:
        page = catalog.list_runs(conn, namespace, job, limit=limit, offset=offset)
    return m.RunList(runs=[shapes.run(r) for r in page.items], totalCount=page.total)


@router.get("/jobs/runs/{run_id}", response_model=m.Run)
def get_run(request: Request, run_id: str) -> m.Run:
    with read_connection(request) as conn:
        return shapes.run(catalog.get_run(conn, run_id))


@router.get("/jobs/runs/{run_id}/facets", response_model=m.RunFacets)
def get_run_facets(
    request: Request, run_id: str, type: Literal["run", "job"] = "run"
) -> m.RunFacets:
    """The run's facets (``type=run``) or its job's facets as the run reported them (``job``)."""
    with read_connection(request) as conn:
        if type == "job":
            uuid, facets = catalog.run_job_facets(conn, run_id)
        else:
            uuid, facets = catalog.run_facets(conn, run_id)
    return m.RunFacets(runId=uuid, facets=facets)


@router.get("/lineage", response_model=m.LineageGraph)
def get_lineage(
    request: Request,
    node_id: Annotated[
        str,
        Query(alias="nodeId", pattern=NODE_ID_PATTERN, description="dataset:…, job:… or run:…"),
    ],
    depth: Annotated[int, Query(ge=0, le=MAX_DEPTH, description="Hops up and down")] = 20,
    as_of: Annotated[UtcTime | None, Query(alias="asOf")] = None,
    max_nodes: Annotated[int, Query(alias="maxNodes", ge=1, le=MAX_NODES)] = DEFAULT_MAX_NODES,
) -> m.LineageGraph:
    """Datasets and jobs upstream and downstream of ``nodeId`` (Marquez's graph shape)."""
    with read_connection(request) as conn:
        nodes = marquez_lineage.lineage(
            conn, node_id=node_id, depth=depth, as_of=utc(as_of), max_nodes=max_nodes
        )
    return m.LineageGraph(graph=[shapes.lineage_node(n) for n in nodes])


@router.get("/column-lineage", response_model=m.ColumnLineageGraph)
def get_column_lineage(
    request: Request,
    node_id: Annotated[
        str,
        Query(
            alias="nodeId", pattern=NODE_ID_PATTERN, description="datasetField:…, dataset:…, job:…"
        ),
    ],
    depth: Annotated[int, Query(ge=0, le=MAX_DEPTH)] = 20,
    with_downstream: Annotated[bool, Query(alias="withDownstream")] = False,
) -> m.ColumnLineageGraph:
    """Column-level lineage (upstream; ``withDownstream`` adds the derived columns)."""
    with read_connection(request) as conn:
        nodes = marquez_lineage.column_lineage(
            conn, node_id=node_id, depth=depth, with_downstream=with_downstream
        )
    return m.ColumnLineageGraph(graph=[shapes.column_node(n) for n in nodes])


@router.get("/events/lineage", response_model=m.Events)
def list_lineage_events(
    request: Request,
    before: UtcTime | None = None,
    after: UtcTime | None = None,
    sort_direction: Annotated[Literal["asc", "desc"], Query(alias="sortDirection")] = "desc",
    limit: Limit = 100,
    offset: Offset = 0,
) -> m.Events:
    """The raw OpenLineage events by event time (``after`` < eventTime <= ``before``)."""
    with read_connection(request) as conn:
        page = events.list_events(
            conn,
            before=utc(before),
            after=utc(after),
            sort=sort_direction,
            limit=limit,
            offset=offset,
        )
    return m.Events(events=page.items, totalCount=page.total)


@router.get("/search", response_model=m.SearchResultList)
def search_catalog(
    request: Request,
    q: Annotated[str, Query(min_length=1, description="Substring; % and _ are wildcards")],
    filter: Annotated[
        str | None, Query(description="DATASET or JOB", pattern=_any_case("DATASET", "JOB"))
    ] = None,
    sort: Annotated[
        str, Query(description="NAME or UPDATE_AT", pattern=_any_case("NAME", "UPDATE_AT"))
    ] = "NAME",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 10,
    namespace: str | None = None,
) -> m.SearchResultList:
    """Datasets and jobs whose name matches ``q`` (case-insensitive)."""
    kind = _upper_choice(filter, ("DATASET", "JOB"), "filter")
    order = _upper_choice(sort, ("NAME", "UPDATE_AT"), "sort") or "NAME"
    with read_connection(request) as conn:
        page = search.search(
            conn,
            q=q,
            filter_=kind,  # type: ignore[arg-type]
            sort=order,  # type: ignore[arg-type]
            limit=limit,
            namespace=namespace,
        )
    return m.SearchResultList(
        totalCount=page.total, results=[shapes.search_result(h) for h in page.items]
    )


def _upper_choice(value: str | None, choices: tuple[str, ...], name: str) -> str | None:
    if value is None or value == "":
        return None
    upper = value.upper()
    if upper not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(choices)}")
    return upper
