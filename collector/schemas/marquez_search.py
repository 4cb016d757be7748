"""Shapes of Marquez's ``/api/v2beta/search/jobs|datasets`` answers (OpenSearch-like hits)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class JobHit(BaseModel):
    run_id: str | None
    name: str
    namespace: str
    eventType: str | None
    type: str
    facets: dict[str, Any]
    runFacets: dict[str, Any]


class DatasetHit(BaseModel):
    run_id: str | None
    name: str
    namespace: str
    eventType: str | None
    facets: dict[str, Any]


class JobSearchResult(BaseModel):
    hits: list[JobHit]
    highlights: list[dict[str, list[str]]]


class DatasetSearchResult(BaseModel):
    hits: list[DatasetHit]
    highlights: list[dict[str, list[str]]]
