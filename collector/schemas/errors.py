"""The error body every non-2xx answer carries: ``{"error", "details", "request_id"?}``."""

from __future__ import annotations

from pydantic import BaseModel

from mllineage.collector.schemas.ingest import Problem


class ErrorBody(BaseModel):
    """``details`` locate each problem (a JSON pointer into the body, or ``/query/<name>``);
    ``request_id`` is set on a 500, to find its logged stack."""

    error: str
    details: list[Problem] = []
    request_id: str | None = None
