"""Domain errors of the collector; ``api.errors`` turns each into one HTTP response shape."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ErrorDetail:
    """One problem, located by a JSON pointer into the request body (``/run/runId``)."""

    loc: str
    msg: str


class CollectorError(Exception):
    """Base class: ``status`` is the HTTP status the error maps to."""

    status: int = 500

    def __init__(self, message: str, details: list[ErrorDetail] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    @property
    def headers(self) -> dict[str, str]:
        """Extra response headers (``Retry-After`` on a 503)."""
        return {}


class UnreadableBody(CollectorError):
    """The body is not JSON (or not valid gzip)."""

    status = 400


class InvalidEvent(CollectorError):
    """The body is JSON but not an OpenLineage event we can store."""

    status = 422


class BodyTooLarge(CollectorError):
    status = 413


class Unauthenticated(CollectorError):
    status = 401


class Forbidden(CollectorError):
    status = 403


class NotFound(CollectorError):
    status = 404


class BadRequest(CollectorError):
    status = 400


class Overloaded(CollectorError):
    """Too many request bytes in flight already; the client should retry after ``retry_after``."""

    status = 503

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass
class DatabaseUnavailable(Exception):
    """The database cannot be reached; clients should retry after ``retry_after`` seconds."""

    reason: str
    retry_after: int = field(default=5)

    def __str__(self) -> str:
        return f"database unavailable: {self.reason}"
