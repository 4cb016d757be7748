"""Liveness (``/health``) and readiness (``/ready``: the database answers; forwarding backlog)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from mllineage.collector.forward.service import Forwarder

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def _ping(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM lineage_events LIMIT 1"))
    except DBAPIError as exc:
        return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return None


def _forwarding(forwarder: Forwarder) -> dict[str, Any]:
    """Per-target backlog, lag and errors; a lagging target does not make the collector unready."""
    return {
        status.name: {
            "target": status.target,
            "backlog": status.backlog,
            "backlogCapped": status.backlog_capped,
            "lagSeconds": status.lag_seconds,
            "forwarded": status.forwarded,
            "parked": status.parked,
            "failures": status.failures,
            "lastError": status.last_error,
            "lastErrorAt": status.last_error_at.isoformat() if status.last_error_at else None,
        }
        for status in forwarder.status()
    }


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    problem = await run_in_threadpool(_ping, request.app.state.engine)
    if problem is None:
        forwarding = await run_in_threadpool(_forwarding, request.app.state.forwarder)
        return JSONResponse({"status": "ready", "forwarding": forwarding})
    retry_after = str(request.app.state.settings.retry_after_seconds)
    return JSONResponse(
        {"status": "unavailable", "error": problem},
        status_code=503,
        headers={"Retry-After": retry_after},
    )
