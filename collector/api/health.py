"""Liveness (``/health``) and readiness (``/ready``: the database answers) probes."""

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

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def _ping(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM lineage_events LIMIT 1"))
    except DBAPIError as exc:
        log.warning("not ready: %s", reason(exc))  # may name host and port: logged, not answered
        return public_reason(exc)
    return None


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
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
    problem = await run_in_threadpool(_ping, request.app.state.engine)
    if problem is None:
        return JSONResponse({"status": "ready"})
    retry_after = str(request.app.state.settings.retry_after_seconds)
    return JSONResponse(
        {"status": "unavailable", "error": problem},
        status_code=503,
        headers={"Retry-After": retry_after},
    )
