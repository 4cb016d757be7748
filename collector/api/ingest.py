"""OpenLineage ingestion: ``POST /api/v1/lineage`` and ``POST /api/v1/lineage/batch``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mllineage.collector.api.auth import require_scope
from mllineage.collector.errors import (
    BodyTooLarge,
    CollectorError,
    DatabaseUnavailable,
    ErrorDetail,
    InvalidEvent,
)
from mllineage.collector.ingest.validate import EventValidator, ParsedEvent, decode_body, parse_body
from mllineage.collector.ingest.writer import IngestWriter
from mllineage.collector.metrics import CollectorMetrics
from mllineage.collector.schemas.ingest import (
    BatchResponse,
    BatchSummary,
    FailedEvent,
    IngestResponse,
    Problem,
)

router = APIRouter(
    prefix="/api/v1", tags=["ingest"], dependencies=[Depends(require_scope("write"))]
)


async def _read_json(request: Request) -> object:
    limit: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"request body exceeds {limit} bytes")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise BodyTooLarge(f"request body exceeds {limit} bytes")
        chunks.append(chunk)
    body = decode_body(b"".join(chunks), request.headers.get("content-encoding"), limit)
    return parse_body(body)


def _created(outcome: bool) -> str:
    return "created" if outcome else "duplicate"


def _problems(details: list[ErrorDetail]) -> list[Problem]:
    return [Problem(loc=d.loc, msg=d.msg) for d in details]


@router.post("/lineage", status_code=201, response_model=IngestResponse)
async def post_lineage(request: Request) -> JSONResponse:
    """Store one RunEvent, DatasetEvent or JobEvent; 201 whether it is new or a duplicate."""
    payload = await _read_json(request)
    validator: EventValidator = request.app.state.validator
    writer: IngestWriter = request.app.state.writer
    metrics: CollectorMetrics = request.app.state.metrics
    try:
        parsed = validator.validate(payload)
    except CollectorError:
        metrics.ingested("rejected")
        raise
    try:
        [outcome] = await writer.submit([parsed])
    except CollectorError:
        metrics.ingested("failed")
        raise
    metrics.ingested("failed" if isinstance(outcome, Exception) else _created(outcome))
    if isinstance(outcome, Exception):
        raise outcome
    body = IngestResponse(
        status="created" if outcome else "duplicate", warnings=_problems(parsed.warnings)
    )
    return JSONResponse(body.model_dump(), status_code=201)


@router.post("/lineage/batch", response_model=BatchResponse)
async def post_lineage_batch(request: Request) -> BatchResponse:
    """Store a JSON array of events; each one is atomic on its own; failures listed by index."""
    payload = await _read_json(request)
    if not isinstance(payload, list):
        raise InvalidEvent(
            "a batch must be a JSON array of OpenLineage events",
            [ErrorDetail("", f"got {type(payload).__name__}")],
        )
    validator: EventValidator = request.app.state.validator
    writer: IngestWriter = request.app.state.writer
    failed: list[FailedEvent] = []
    valid: list[tuple[int, ParsedEvent]] = []
    for index, item in enumerate(payload):
        try:
            valid.append((index, validator.validate(item)))
        except CollectorError as exc:
            failed.append(
                FailedEvent(
                    index=index,
                    reason=exc.message,
                    retriable=False,
                    details=_problems(exc.details),
                )
            )
    outcomes = await writer.submit([parsed for _, parsed in valid])
    for (index, _), outcome in zip(valid, outcomes, strict=True):
        if isinstance(outcome, DatabaseUnavailable):
            failed.append(FailedEvent(index=index, reason=str(outcome), retriable=True))
        elif isinstance(outcome, Exception):  # logged by the writer; no internals in the answer
            reason = "internal error while storing this event"
            failed.append(FailedEvent(index=index, reason=reason, retriable=False))
    failed.sort(key=lambda f: f.index)
    metrics: CollectorMetrics = request.app.state.metrics
    metrics.ingested("rejected", len(payload) - len(valid))
    for outcome in outcomes:
        metrics.ingested("failed" if isinstance(outcome, Exception) else _created(outcome))
    retriable = sum(f.retriable for f in failed)
    return BatchResponse(
        status="partial_success" if failed else "success",
        summary=BatchSummary(
            received=len(payload),
            successful=len(payload) - len(failed),
            failed=len(failed),
            retriable=retriable,
            non_retriable=len(failed) - retriable,
        ),
        failed_events=failed,
    )
