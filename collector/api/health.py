"""Liveness (``/health``) and readiness (``/ready``: the database answers, and how far the
projection lags the raw log) probes."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from mllineage.collector.db.failures import public_reason, reason
from mllineage.collector.ingest.backlog import BacklogStatus, projection_backlog

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def _ping(engine: Engine) -> BacklogStatus | str:
    """The projection backlog, or why the database does not answer (in words a client may see:
    the driver's message, which may name host and port, is only logged)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM lineage_events LIMIT 1"))
            return projection_backlog(conn)
    except DBAPIError as exc:
        log.warning("not ready: %s", reason(exc))
        return public_reason(exc)


class Backlog(BaseModel):
    pending: int
    oldest_age_seconds: float | None = None


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    projection: Backlog | None = None
    error: str | None = None


@router.get(
    "/ready",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "The database does not answer; retry after Retry-After",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        }
    },
)
async def ready(request: Request) -> JSONResponse:
    """Ready when the database answers; ``projection`` reports the backlog of acknowledged events
    not projected yet (``pending``) and the age in seconds of the oldest (``oldest_age_seconds``).
    """
    problem = await run_in_threadpool(_ping, request.app.state.engine)
    if isinstance(problem, BacklogStatus):
        backlog = {"pending": problem.pending, "oldest_age_seconds": problem.oldest_age_seconds}
        return JSONResponse({"status": "ready", "projection": backlog})
    retry_after = str(request.app.state.settings.retry_after_seconds)
    return JSONResponse(
        {"status": "unavailable", "error": problem},
        status_code=503,
        headers={"Retry-After": retry_after},
    )
