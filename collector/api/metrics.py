"""``GET /metrics``: Prometheus text exposition of the app's registry (prometheus-client)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mllineage.collector.api.auth import require_scope

router = APIRouter(tags=["health"])
_read_scope = require_scope("read")


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Read scope when API keys are on, unless ``MLLINEAGE_METRICS_PUBLIC`` is set."""
    if not request.app.state.settings.metrics_public:
        await _read_scope(request)
    registry = request.app.state.metrics.registry
    # Collecting reads the forwarding backlog from the database: off the event loop.
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
