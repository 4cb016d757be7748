"""OpenLineage ingestion: ``POST /api/v1/lineage`` and ``POST /api/v1/lineage/batch``."""

from __future__ import annotations

import logging

import orjson
from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import DBAPIError
from starlette.routing import Match, Route
from starlette.types import Scope

from mllineage.collector.api.auth import Namespaces, authorize
from mllineage.collector.api.inflight import reserved_body
from mllineage.collector.api.openapi import BATCH_BODY, EVENT_BODY
from mllineage.collector.db.failures import Failure, classify
from mllineage.collector.errors import (
    BodyTooLarge,
    CollectorError,
    DatabaseUnavailable,
    ErrorDetail,
    Forbidden,
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

log = logging.getLogger(__name__)

# No router dependencies: each route checks the write scope (``authorize``) and then reserves
# its body bytes (``reserved_body``) itself, in that order; FastAPI's dependency machinery was a
# visible share of a single event's CPU.
router = APIRouter(prefix="/api/v1", tags=["ingest"])


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


def _check_namespaces(parsed: ParsedEvent, allowed: Namespaces) -> None:
    """403 unless the key may write every namespace the event names (its job's, its datasets')."""
    refused = allowed.refused(parsed.namespaces())
    if refused:
        raise Forbidden(
            "this API key may not write to namespace " + ", ".join(repr(ns) for ns in refused)
        )


def _accept(validator: EventValidator, item: object, allowed: Namespaces) -> ParsedEvent:
    parsed = validator.validate(item)
    _check_namespaces(parsed, allowed)
    return parsed


def _store_failure(index: int, outcome: Exception) -> FailedEvent:
    """The batch entry of an event the writer could not store."""
    if isinstance(outcome, DatabaseUnavailable):
        return FailedEvent(index=index, reason=str(outcome), retriable=True)
    if isinstance(outcome, DBAPIError):
        failure = classify(outcome)
        if failure in (Failure.UNAVAILABLE, Failure.CONFLICT):
            return FailedEvent(index=index, reason="database unavailable", retriable=True)
        if failure is Failure.REFUSED_INPUT:
            reason = "the database cannot store a value of this event"
            return FailedEvent(index=index, reason=reason, retriable=False)
    # logged by the writer; no internals in the answer
    return FailedEvent(
        index=index, reason="internal error while storing this event", retriable=False
    )


@router.post("/lineage", status_code=201, response_model=IngestResponse, openapi_extra=EVENT_BODY)
async def post_lineage(request: Request) -> Response:
    """Store one RunEvent, DatasetEvent or JobEvent; 201 whether it is new or a duplicate."""
    allowed = authorize(request, "write")
    with reserved_body(request):
        return await _post_one(request, allowed)


#: The answer to a valid event without warnings (nearly all of them), serialised once.
_PLAIN = {
    outcome: orjson.dumps(IngestResponse(status=outcome).model_dump())
    for outcome in ("created", "duplicate")
}


async def _post_one(request: Request, allowed: Namespaces) -> Response:
    payload = await _read_json(request)
    state = request.app.state
    metrics: CollectorMetrics = state.metrics
    try:
        parsed = _accept(state.validator, payload, allowed)
    except CollectorError:
        metrics.ingested("rejected")
        raise
    writer: IngestWriter = state.writer
    try:
        [outcome] = await writer.submit([parsed])
    except CollectorError:
        metrics.ingested("failed")
        raise
    if isinstance(outcome, Exception):
        metrics.ingested("failed")
        raise outcome
    status = _created(outcome)
    metrics.ingested(status)
    if parsed.warnings:
        body = IngestResponse(status=status, warnings=_problems(parsed.warnings))
        content = orjson.dumps(body.model_dump())
    else:
        content = _PLAIN[status]
    return Response(content, status_code=201, media_type="application/json")


@router.post("/lineage/batch", response_model=BatchResponse, openapi_extra=BATCH_BODY)
async def post_lineage_batch(request: Request) -> Response:
    """Store a JSON array of events; each one is atomic on its own; failures listed by index."""
    allowed = authorize(request, "write")
    with reserved_body(request):
        return await _post_batch(request, allowed)


async def _post_batch(request: Request, allowed: Namespaces) -> Response:
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
            valid.append((index, _accept(validator, item, allowed)))
        except CollectorError as exc:
            failed.append(
                FailedEvent(
                    index=index,
                    reason=exc.message,
                    retriable=False,
                    details=_problems(exc.details),
                )
            )
        except Exception:  # one event never fails the batch
            log.exception("validating batch item %d failed", index)
            reason = "internal error while validating this event"
            failed.append(FailedEvent(index=index, reason=reason, retriable=False))
    outcomes = await writer.submit([parsed for _, parsed in valid])
    for (index, _), outcome in zip(valid, outcomes, strict=True):
        if isinstance(outcome, Exception):
            failed.append(_store_failure(index, outcome))
    failed.sort(key=lambda f: f.index)
    metrics: CollectorMetrics = request.app.state.metrics
    metrics.ingested("rejected", len(payload) - len(valid))
    for outcome in outcomes:
        metrics.ingested("failed" if isinstance(outcome, Exception) else _created(outcome))
    retriable = sum(f.retriable for f in failed)
    body = BatchResponse(
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
    return Response(orjson.dumps(body.model_dump()), media_type="application/json")


class _IngestRoute(Route):
    """Records itself as the matched route in the scope, as FastAPI's routes do (the request
    metrics are labelled by its path)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def fast_routes() -> list[Route]:
    """The two ingest endpoints as plain Starlette routes, to be matched before FastAPI's.

    They run the very functions of the FastAPI routes above (auth, body budget, validation,
    errors through the app's exception handlers, same answers), minus FastAPI's per-request
    machinery (dependency solving, exit stacks, response-model handling), a visible share of a
    single event's CPU. The FastAPI routes stay registered: they are what the OpenAPI document
    describes, and they answer if these are not installed.
    """
    return [
        _IngestRoute("/api/v1/lineage", post_lineage, methods=["POST"]),
        _IngestRoute("/api/v1/lineage/batch", post_lineage_batch, methods=["POST"]),
    ]
