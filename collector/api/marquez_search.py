"""Marquez's v2beta search routes: ``GET /api/v2beta/search/jobs|datasets?q=``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from mllineage.collector.api.auth import require_scope
from mllineage.collector.api.reads import read_connection
from mllineage.collector.queries.search_hits import search_hits
from mllineage.collector.schemas.marquez_search import (
    DatasetHit,
    DatasetSearchResult,
    JobHit,
    JobSearchResult,
)

router = APIRouter(
    prefix="/api/v2beta/search", tags=["marquez"], dependencies=[Depends(require_scope("read"))]
)

Q = Annotated[str, Query(min_length=1, description="Substring of a name or namespace")]
Limit = Annotated[int, Query(ge=1, le=1_000, description="Most hits (OpenSearch's default: 10)")]


@router.get("/jobs", response_model=JobSearchResult)
def search_jobs(request: Request, q: Q, limit: Limit = 10) -> JobSearchResult:
    with read_connection(request) as conn:
        hits = search_hits(conn, "jobs", q, limit=limit)
    return JobSearchResult(
        hits=[
            JobHit(
                run_id=h.run_id,
                name=h.name,
                namespace=h.namespace,
                eventType=h.event_type,
                type=_job_type(h.facets),
                facets=h.facets,
                runFacets=h.run_facets,
            )
            for h in hits
        ],
        highlights=[h.highlights for h in hits],
    )


@router.get("/datasets", response_model=DatasetSearchResult)
def search_datasets(request: Request, q: Q, limit: Limit = 10) -> DatasetSearchResult:
    with read_connection(request) as conn:
        hits = search_hits(conn, "datasets", q, limit=limit)
    return DatasetSearchResult(
        hits=[
            DatasetHit(
                run_id=h.run_id,
                name=h.name,
                namespace=h.namespace,
                eventType=h.event_type,
                facets=h.facets,
            )
            for h in hits
        ],
        highlights=[h.highlights for h in hits],
    )


def _job_type(facets: dict[str, object]) -> str:
    """The ``jobType`` facet's processing type (BATCH unless it says STREAMING), as Marquez."""
    job_type = facets.get("jobType")
    streaming = isinstance(job_type, dict) and job_type.get("processingType") == "STREAMING"
    return "STREAM" if streaming else "BATCH"
