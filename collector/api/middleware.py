"""ASGI middleware: a request id per request (``X-Request-ID`` in and out), the projection-lag
header of reads that answered stale, an access log, URLs holding U+0000 refused (400; PostgreSQL
cannot compare text with it), and the last line of defence: whatever escapes every handler
becomes a logged JSON 500."""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import Mapping

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mllineage.collector.logs import request_id_var

log = logging.getLogger("mllineage.access")
errors_log = logging.getLogger(__name__)


class RequestIdMiddleware:
    """Plain ASGI (no BaseHTTPMiddleware overhead). Never logs headers, so keys stay private.

    An exception no handler turned into a response is logged with its stack and answered as
    ``{"error": "internal server error", "request_id": ...}`` with status 500 (never plain text);
    if the response had already started, the connection is closed by the server instead.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Ids are 32 hex digits: a random prefix per app (so per worker process) and a counter,
        # as unique as uuid4 for log correlation at a fraction of its cost per request.
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        if incoming and len(incoming) <= 128:
            request_id = incoming
        else:
            request_id = f"{self._prefix}{next(self._counter):016x}"
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    *_lag_header(scope),
                ]
            await send(message)

        try:
            nul = _nul_location(scope)
            if nul is None:
                await self.app(scope, receive, send_with_id)
            else:
                await _json(send_with_id, 400, error_body(nul, "contains the character U+0000"))
        except Exception:
            errors_log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if started_response:
                raise
            await _internal_error(send_with_id, request_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={"duration_ms": round((time.perf_counter() - started) * 1000, 2)},
                )
            request_id_var.reset(token)


def error_body(loc: str, msg: str) -> dict[str, object]:
    return {"error": "invalid request parameters", "details": [{"loc": loc, "msg": msg}]}


def _nul_location(scope: Scope) -> str | None:
    """``/path`` or ``/query`` when that part of the URL holds U+0000 (``%00``), else None."""
    if "\x00" in scope["path"]:
        return "/path"
    if b"%00" in scope.get("query_string", b""):
        return "/query"
    return None


async def _internal_error(send: Send, request_id: str) -> None:
    body = {"error": "internal server error", "details": [], "request_id": request_id}
    await _json(send, 500, body)


async def _json(send: Send, status: int, content: Mapping[str, object]) -> None:
    body = orjson.dumps(content)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _lag_header(scope: Scope) -> list[tuple[bytes, bytes]]:
    """``X-MLLineage-Projection-Lag`` when the read answered before the projection caught up
    (``api.reads.read_connection`` leaves the lag in the request state)."""
    lag = scope.get("state", {}).get("projection_lag")
    return [] if lag is None else [(b"x-mllineage-projection-lag", f"{lag:.3f}".encode())]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None
