"""ASGI middleware: a request id per request (``X-Request-ID`` in and out), the projection-lag
header of reads that answered stale, and an access log."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mllineage.collector.logs import request_id_var

log = logging.getLogger("mllineage.access")


class RequestIdMiddleware:
    """Plain ASGI (no BaseHTTPMiddleware overhead). Never logs headers, so keys stay private."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and len(incoming) <= 128 else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    *_lag_header(scope),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
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
