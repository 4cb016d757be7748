"""The one place where domain errors become HTTP responses: ``{"error", "details"}`` JSON."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from mllineage.collector.db.failures import Failure, classify, reason, unavailable
from mllineage.collector.errors import CollectorError, DatabaseUnavailable

log = logging.getLogger(__name__)


def error_body(message: str, details: list[dict[str, str]] | None = None) -> dict[str, object]:
    return {"error": message, "details": details or []}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CollectorError)
    async def collector_error(_: Request, exc: CollectorError) -> JSONResponse:
        details = [{"loc": d.loc, "msg": d.msg} for d in exc.details]
        return JSONResponse(
            error_body(exc.message, details), status_code=exc.status, headers=exc.headers
        )

    @app.exception_handler(DatabaseUnavailable)
    async def database_unavailable(_: Request, exc: DatabaseUnavailable) -> JSONResponse:
        return JSONResponse(
            error_body(str(exc)),
            status_code=503,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        """Answer as ``db.failures`` classifies: 503 unavailable, 422 a value the database
        refused, else a logged 500. The driver's message is never sent to the client."""
        failure = classify(exc)
        if failure in (Failure.UNAVAILABLE, Failure.CONFLICT):
            retry_after = request.app.state.settings.retry_after_seconds
            return await database_unavailable(request, unavailable(exc, retry_after))
        if failure is Failure.REFUSED_INPUT:
            log.warning("database refused a value: %s", reason(exc))
            return JSONResponse(
                error_body("the database cannot store a value of this request"), status_code=422
            )
        log.error("database error: %s", reason(exc), exc_info=exc)
        return JSONResponse(error_body("internal database error"), status_code=500)

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": "/" + "/".join(str(p) for p in err["loc"]), "msg": err["msg"]}
            for err in exc.errors()
        ]
        return JSONResponse(error_body("invalid request parameters", details), status_code=400)
