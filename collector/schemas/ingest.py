"""Response bodies of the ingestion endpoints (the batch one follows spec/OpenLineage.yml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Problem(BaseModel):
    loc: str
    msg: str


class IngestResponse(BaseModel):
    """201 for a new event and for a duplicate alike; ``warnings`` lists accepted spec breaches."""

    status: Literal["created", "duplicate"]
    warnings: list[Problem] = []


class BatchSummary(BaseModel):
    received: int
    successful: int
    failed: int
    retriable: int
    non_retriable: int


class FailedEvent(BaseModel):
    index: int
    reason: str
    retriable: bool
    details: list[Problem] = []


class BatchResponse(BaseModel):
    status: Literal["success", "partial_success"]
    summary: BatchSummary
    failed_events: list[FailedEvent] = []
