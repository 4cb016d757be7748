"""The OpenAPI document: what FastAPI derives from the routes, plus what it cannot see.

The ingest routes read their body themselves (gzip, size limits, per-item validation), so their
request bodies are described here from the same pydantic models that validate them
(``OpenLineage.RunEvent | DatasetEvent | JobEvent``, or an array of them for the batch). Errors
all have one shape (``schemas.errors.ErrorBody``) and are mapped in one place
(``api.errors``); ``ERROR_STATUSES`` lists, per route group, every status those handlers give,
and replaces FastAPI's default 422 (parameter errors are 400 here). A schema-driven fuzzer
checks in the test suite that the answers stay within this document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from mllineage.collector.schemas.errors import ErrorBody
from mllineage.collector.schemas.openlineage import AnyEvent

_PREFIX = "OpenLineage."
_COMPONENTS = "#/components/schemas/"
_EVENT_REF = {"$ref": f"{_COMPONENTS}{_PREFIX}Event"}

#: ``openapi_extra`` of ``POST /lineage``: one event, JSON (``Content-Encoding: gzip`` accepted).
EVENT_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": _EVENT_REF}}}
}
#: ``openapi_extra`` of ``POST /lineage/batch``: a JSON array of events.
BATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "array", "items": _EVENT_REF}}},
    }
}

NO_NUL = r"^[^\x00]*$"

_MEANING = {
    400: "Invalid parameters, or a body that is not JSON (or not valid gzip)",
    401: "Missing or unknown API key",
    403: "The API key lacks the scope, or may not write to a namespace the event names",
    404: "Nothing by that name (or hidden from this API key)",
    413: "Body larger than MLLINEAGE_MAX_BODY_BYTES (also after gzip)",
    422: "JSON, but not an OpenLineage event the collector can store; details locate each problem",
    503: "Database unavailable or too many request bytes in flight: retry after Retry-After",
}

#: Error statuses by route tag.
ERROR_STATUSES: dict[str, tuple[int, ...]] = {
    "ingest": (400, 401, 403, 413, 422, 503),
    "ml": (400, 401, 403, 404, 503),
    "marquez": (400, 401, 403, 404, 503),
}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) return the completed document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    events = TypeAdapter(AnyEvent).json_schema(ref_template=f"{_COMPONENTS}{_PREFIX}{{model}}")
    for name, schema in events.pop("$defs").items():
        schemas[_PREFIX + name] = schema
    schemas[_PREFIX + "Event"] = events
    error = ErrorBody.model_json_schema(ref_template=f"{_COMPONENTS}{{model}}")
    for name, schema in error.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas["ErrorBody"] = error
    for path_item in document["paths"].values():
        for operation in path_item.values():
            _document_errors(operation)
            _document_no_nul(operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def _document_no_nul(operation: dict[str, Any]) -> None:
    """``api.middleware`` answers 400 to any URL holding U+0000: say so on every string parameter
    (those with a pattern exclude it in the pattern)."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        for option in schema.get("anyOf", [schema]):
            if option.get("type") == "string" and "pattern" not in option:
                option["pattern"] = NO_NUL


def _document_errors(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)  # FastAPI's parameter-validation answer; ours is a 400
    statuses = {s for tag in operation.get("tags", []) for s in ERROR_STATUSES.get(tag, ())}
    for status in sorted(statuses):
        response: dict[str, Any] = {
            "description": _MEANING[status],
            "content": {"application/json": {"schema": {"$ref": f"{_COMPONENTS}ErrorBody"}}},
        }
        if status == 503:
            response["headers"] = {
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
            }
        responses[str(status)] = response
